"""schemathesis against each running service, from the service's own /openapi.json.

One run per service and caller (an enduser, a superadmin), with a bounded number of
examples per operation and every phase: the schema's examples, coverage (boundary
values and unexpected methods), fuzzing (positive and negative data) and stateful
sequences along the document's links (a created product → read, replace, delete it).
Every response must be no 5xx, a documented status, of the documented content type,
with the documented headers, and match its schema; secured routes must refuse
requests without valid auth; a deleted resource must be gone.

Left out: `positive_data_acceptance` (that every schema-valid body is accepted). The
validators are stricter than JSON Schema can say, on purpose: the password policy
(common passwords, letters and a digit or symbol), email deliverability rules,
whitespace stripped before length checks. Each of those answers a documented 422.
`unsupported_method` (405 with `Allow` for every method a path does not declare) is
replaced by the shop's own check in `schemathesis_hooks.py`: as in API Gateway, a
method a resource does not declare is answered like an unknown route, 403, as the
`no-route` problem. Every unexpected method schemathesis knows is sent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.integration.api.conftest import Caller
from tests.security.conftest import Services
from tests.support.client import ShopClient

pytestmark = pytest.mark.integration

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
EXAMPLES_PER_OPERATION = 12


def config(parameters: dict[str, str]) -> str:
    lines = []
    if parameters:
        lines += ["[parameters]"] + [f'"{k}" = "{v}"' for k, v in parameters.items()]
    return "\n".join(lines) + "\n"


def run_schemathesis(base_url: str, token: str, workdir: Path,
                     parameters: dict[str, str]) -> subprocess.CompletedProcess[str]:
    config_file = workdir / "schemathesis.toml"
    config_file.write_text(config(parameters))
    return subprocess.run(
        [str(SCHEMATHESIS), "--config-file", str(config_file), "--no-color", "run",
         f"{base_url}/openapi.json", "--url", base_url,
         "--header", f"Authorization: Bearer {token}",
         "--checks", "all",
         "--exclude-checks", "positive_data_acceptance,unsupported_method",
         "--max-examples", str(EXAMPLES_PER_OPERATION),
         "--phases", "examples,coverage,fuzzing,stateful",
         "--seed", "20261130", "--generation-deterministic",
         "--workers", "1", "--request-timeout", "30", "--suppress-health-check", "all",
         "--report", "junit", "--report-dir", str(workdir)],
        cwd=workdir, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
    )


def real_ids(service: str, caller: Caller, new_product, product_service: ShopClient,
             ) -> dict[str, str]:
    """Ids an enduser's run reaches past 404 with: a product it can buy, its own order."""
    if caller.role != "enduser" or service == "user":
        return {}  # the superadmin's run makes its products through the links
    product = new_product(stock=1_000_000, price="1.00", name="Schemathesis stock")
    if service == "product":
        return {"path.product_id": product["id"]}
    placed = product_service.call("POST", f"/products/{product['id']}/orders",
                                  token=caller.token(), json={"quantity": 1},
                                  headers={"Idempotency-Key": uuid.uuid4().hex})
    assert placed.status_code == 201, placed.text
    return {"path.order_id": placed.json()["id"]}


@pytest.mark.parametrize("role", ["enduser", "superadmin"])
@pytest.mark.parametrize("service", ["user", "product", "order"])
def test_schemathesis_finds_nothing(
    services: Services, enduser: Caller, superadmin: Caller, product_service: ShopClient,
    new_product, tmp_path: Path, service: str, role: str,
) -> None:
    caller = enduser if role == "enduser" else superadmin
    parameters = real_ids(service, caller, new_product, product_service)
    base_url = services.client(service).base_url
    result = run_schemathesis(base_url, caller.token(), tmp_path, parameters)
    report = result.stdout[-20_000:] + result.stderr[-5_000:]
    assert result.returncode == 0, report
    generated = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert generated and int(generated[1]) > 0 and generated[1] == generated[2], report
