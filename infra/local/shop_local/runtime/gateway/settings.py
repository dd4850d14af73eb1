"""Settings of the local API Gateway and its HTTP server, read once from the environment.

- `SHOP_GATEWAY_INTEGRATION_TIMEOUT_SECONDS` (29): past it the gateway answers 504
  (API Gateway's integration timeout); the invocation runs on to the function's timeout.
- `SHOP_GATEWAY_MAX_BODY_BYTES` (10485760): a larger request body is refused with 413
  before it is read (API Gateway's 10 MB payload quota).
- `SHOP_GATEWAY_BODY_TIMEOUT_SECONDS` (30): a request body must have arrived within this
  after its header section, else 408 and the connection is closed.
- `SHOP_GATEWAY_HEADER_TIMEOUT_SECONDS` (10): a connection must send a complete header
  section within this, else it is closed (after a 408 if it sent part of one).
- `SHOP_GATEWAY_IDLE_TIMEOUT_SECONDS` (5): an idle keep-alive connection is closed after this.
- `SHOP_GATEWAY_MAX_HEADER_BYTES` (16384): request line and header fields together; past
  it the connection is closed after 414 when the request-target alone is over it, else 431.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shop_local.runtime.http_server import ServerLimits

API_GATEWAY_TIMEOUT_SECONDS = 29.0
# https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
API_GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024


class GatewaySettingsError(ValueError):
    """A gateway setting is invalid; the message names the variable."""


def _number(environ: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise GatewaySettingsError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise GatewaySettingsError(f"{name}={raw} must be at least {minimum:g}")
    return value


@dataclass(frozen=True)
class GatewaySettings:
    """The gateway's limits, in seconds and bytes; `from_environ` reads them.

    The module docstring gives each variable and its API Gateway counterpart.
    """

    integration_timeout: float = API_GATEWAY_TIMEOUT_SECONDS
    max_body_bytes: int = API_GATEWAY_MAX_PAYLOAD_BYTES
    body_timeout: float = 30.0
    limits: ServerLimits = field(default_factory=ServerLimits)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        """Raises GatewaySettingsError naming the bad variable."""
        env = os.environ if environ is None else environ
        defaults = ServerLimits()
        return cls(
            integration_timeout=_number(env, "SHOP_GATEWAY_INTEGRATION_TIMEOUT_SECONDS",
                                        API_GATEWAY_TIMEOUT_SECONDS, 0.05),
            max_body_bytes=int(_number(env, "SHOP_GATEWAY_MAX_BODY_BYTES",
                                       API_GATEWAY_MAX_PAYLOAD_BYTES, 0)),
            body_timeout=_number(env, "SHOP_GATEWAY_BODY_TIMEOUT_SECONDS", 30.0, 0.05),
            limits=ServerLimits(
                header_timeout=_number(env, "SHOP_GATEWAY_HEADER_TIMEOUT_SECONDS",
                                       defaults.header_timeout, 0.05),
                idle_timeout=_number(env, "SHOP_GATEWAY_IDLE_TIMEOUT_SECONDS",
                                     defaults.idle_timeout, 1),
                max_header_bytes=int(_number(env, "SHOP_GATEWAY_MAX_HEADER_BYTES",
                                             defaults.max_header_bytes, 1024)),
            ),
        )
