"""Settings of the local Lambda service, read once from the process environment.

- `SHOP_LAMBDA_MAX_ENVIRONMENTS` (CPU count x 2): environments per function when it has
  no reserved concurrency; past it invocations wait for a free one.
- `SHOP_LAMBDA_TRANSPORT` (`socket`): `socket`, the fast local transport, or `http`, the
  Lambda Runtime API over HTTP (`python -m awslambdaric`).
- `SHOP_LAMBDA_START` (`fork`): `fork`, forked from a template process per app that has
  imported the app's libraries (see `launchers`), or `exec`, a fresh interpreter each.
- `SHOP_LAMBDA_IDLE_SECONDS` (900): an environment idle this long is shut down (0: never).
- `SHOP_LAMBDA_LOG_DIR` (`var/logs/lambda`): where each function's log file goes.
- `SHOP_LAMBDA_INVOKE_PORT` (3001): the Lambda Invoke API's port on 127.0.0.1.
- `SHOP_LAMBDA_REGISTRY_DIR` (unset): when set, the service also serves the Invoke API on
  a free loopback port and registers its functions there (see `lambda_registry`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shop_local.paths import LOGS

TRANSPORTS = ("socket", "http")
START_MODES = ("fork", "exec")
DEFAULT_INVOKE_PORT = 3001
# The stack's access key for the Invoke API (SigV4): the local service's, never a function's.
ACCESS_KEY_VARIABLE = "SHOP_LAMBDA_ACCESS_KEY_ID"
SECRET_KEY_VARIABLE = "SHOP_LAMBDA_SECRET_ACCESS_KEY"  # noqa: S105 (a name, not a secret)


class LambdaSettingsError(ValueError):
    """A setting of the Lambda service is invalid; the message names the variable."""


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise LambdaSettingsError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise LambdaSettingsError(f"{name}={value} must be at least {minimum}")
    return value


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = environ.get(name, "").strip() or choices[0]
    if value not in choices:
        raise LambdaSettingsError(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


@dataclass(frozen=True)
class LambdaSettings:
    """The Lambda service's settings; `from_environ` reads and checks them.

    The module docstring gives each variable and default. `idle_seconds` 0 means never.
    """

    max_environments: int = (os.cpu_count() or 1) * 2
    transport: str = "socket"
    start_mode: str = "fork"
    idle_seconds: int = 900
    log_dir: Path = LOGS / "lambda"
    invoke_port: int = DEFAULT_INVOKE_PORT
    registry_dir: Path | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> LambdaSettings:
        """Raises LambdaSettingsError naming the bad variable."""
        env = os.environ if environ is None else environ
        log_dir = env.get("SHOP_LAMBDA_LOG_DIR", "").strip()
        registry = env.get("SHOP_LAMBDA_REGISTRY_DIR", "").strip()
        return cls(
            max_environments=_int(env, "SHOP_LAMBDA_MAX_ENVIRONMENTS",
                                  (os.cpu_count() or 1) * 2, 1),
            transport=_choice(env, "SHOP_LAMBDA_TRANSPORT", TRANSPORTS),
            start_mode=_choice(env, "SHOP_LAMBDA_START", START_MODES),
            idle_seconds=_int(env, "SHOP_LAMBDA_IDLE_SECONDS", 900, 0),
            log_dir=Path(log_dir).resolve() if log_dir else LOGS / "lambda",
            invoke_port=_int(env, "SHOP_LAMBDA_INVOKE_PORT", DEFAULT_INVOKE_PORT, 1),
            registry_dir=Path(registry).resolve() if registry else None,
        )
