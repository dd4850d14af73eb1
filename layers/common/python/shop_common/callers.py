"""Who may call a route, stated in one call: `callers.user()`, `.superadmin()`, `.enduser()`,
`.service()`.

Each app builds one `Callers` from its Chalice app and its runtime; a route then
names the kind of caller it accepts, as full-stack-fastapi-template's `CurrentUser`
and superuser dependencies do. Every check reads the current request's bearer token
and returns the verified claims, or raises a problem (401 without a valid token of
the right kind, 403 for a caller of the wrong role or service).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalice.app import Chalice

from shop_common.auth import calling_service, current_enduser, current_superadmin, current_user
from shop_common.runtime import ServiceRuntime
from shop_common.tokens import ServiceClaims, UserClaims
from shop_common.web import request_of


@dataclass(frozen=True)
class Callers:
    """The caller checks of one app.

    `runtime` is called on each check (never at import), `services` names the
    services whose tokens `service()` accepts.
    """

    app: Chalice
    runtime: Callable[[], ServiceRuntime]
    services: frozenset[str] = frozenset()

    def user(self) -> UserClaims:
        """A signed-in user of any role; 401 otherwise."""
        rt = self.runtime()
        return current_user(request_of(self.app).headers, rt.keys, rt.settings)

    def superadmin(self) -> UserClaims:
        """A signed-in superadmin; 401 without a user token, 403 for another role."""
        rt = self.runtime()
        return current_superadmin(request_of(self.app).headers, rt.keys, rt.settings)

    def enduser(self) -> UserClaims:
        """A signed-in enduser; 401 without a user token, 403 for another role."""
        rt = self.runtime()
        return current_enduser(request_of(self.app).headers, rt.keys, rt.settings)

    def service(self) -> ServiceClaims:
        """One of `services`, by a service token addressed to this service; 401 without
        one (a user token included), 403 from another service."""
        rt = self.runtime()
        return calling_service(request_of(self.app).headers, rt.keys, rt.settings,
                               self.services)
