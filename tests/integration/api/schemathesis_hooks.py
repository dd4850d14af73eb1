"""schemathesis checks of the shop's own rules, loaded by `SCHEMATHESIS_HOOKS`.

schemathesis' own `unsupported_method` check wants 405 with `Allow` for a method the
document does not declare. A REST API in API Gateway answers any method a resource does
not declare as an unknown route: 403 `MissingAuthenticationTokenException`
(https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html),
which the shop's gateway responses turn into a `no-route` problem. This check holds the
services to that instead.
"""

from __future__ import annotations

from typing import Any

import schemathesis

NO_ROUTE = "https://serverless-shop.dev/problems/no-route"


@schemathesis.check
def undeclared_method_is_a_no_route_problem(ctx: Any, response: Any, case: Any) -> None:
    sent = str(response.request.method).upper()
    if sent == case.operation.method.upper():
        return
    content_type = response.headers.get("content-type", [""])[0]
    if response.status_code != 403 or content_type != "application/problem+json":
        raise AssertionError(f"undeclared method {sent} answered {response.status_code} "
                             f"{content_type}, not API Gateway's 403 as a no-route problem")
    problem = response.json()
    if problem.get("type") != NO_ROUTE or problem.get("status") != 403:
        raise AssertionError(f"undeclared method {sent} answered the problem {problem}")
