"""What the transport is measured against, each as a `ServerSpec` serving `GET /ping`.

- the shop runtime: `shop serve DIR --port N` (any Chalice app);
- stock `chalice local --no-autoreload` on the same app;
- serverless-offline 13 (serverless 3) with the same route as a Python handler,
  installed from npm into var/bench/sls on first use;
- the floors: raw apps on bare HTTP servers (bench.floors).

The floor that matches the runtime is the server named by
`shop_local.runtime.http_server.HTTP_SERVER`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.servers import ServerSpec
from shop_local.paths import ROOT, VAR

HERE = Path(__file__).parent
PING_APP = HERE / "apps" / "ping"
SLS_SOURCE = HERE / "sls"
SLS_DIR = VAR / "bench" / "sls"
SLS_PACKAGES = ("serverless@3", "serverless-offline@13")
BIN = Path(sys.executable).parent


def runtime_server() -> str:
    """The HTTP server the shop runtime serves on, as the runtime declares it."""
    from shop_local.runtime.http_server import HTTP_SERVER

    return HTTP_SERVER


def shop_runtime(app_dir: Path = PING_APP, name: str = "shop runtime") -> ServerSpec:
    # Its Lambda Invoke API on any free port: the fixed one may be a running stack's.
    command = [str(BIN / "shop"), "serve", str(app_dir), "--port", "{port}",
               "--lambda-port", "0", "--no-autoreload"]
    return ServerSpec(name, command, cwd=ROOT)


def stock_chalice(app_dir: Path = PING_APP) -> ServerSpec:
    return ServerSpec("chalice local", [str(BIN / "chalice"), "local", "--no-autoreload",
                                        "--host", "127.0.0.1", "--port", "{port}"], cwd=app_dir)


def floor(server: str, app: str = "ping", env: dict[str, str] | None = None,
          path: str = "/ping") -> ServerSpec:
    return ServerSpec(f"floor {server}", [
        sys.executable, "-m", "bench.floors", "--server", server, "--app", app,
        "--port", "{port}",
    ], path=path, cwd=ROOT, env=env or {})


def floor_installed(server: str) -> bool:
    if server == "http.server":
        return True
    import importlib.util

    return importlib.util.find_spec(server) is not None


# --- serverless-offline -------------------------------------------------------------

SLS_ENV = {"SLS_TELEMETRY_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off",
           "SLS_DEPRECATION_DISABLE": "*", "AWS_ACCESS_KEY_ID": "bench",
           "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"}


def serverless_offline() -> ServerSpec | str:
    """serverless-offline's spec, or why it is skipped (no npm, or the install failed)."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        return "skipped: npm is not installed"
    executable = SLS_DIR / "node_modules" / ".bin" / "serverless"
    if not executable.exists():
        SLS_DIR.mkdir(parents=True, exist_ok=True)
        try:
            result = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                 *SLS_PACKAGES], cwd=SLS_DIR, capture_output=True, text=True, timeout=900,
                check=False, env={**os.environ, **SLS_ENV})
        except subprocess.TimeoutExpired:
            return "skipped: npm install timed out"
        if result.returncode != 0 or not executable.exists():
            return f"skipped: npm install failed: {result.stderr.strip()[-300:]}"
    for name in ("serverless.yml", "handler.py"):
        shutil.copyfile(SLS_SOURCE / name, SLS_DIR / name)
    return ServerSpec("serverless-offline", [
        str(executable), "offline", "start", "--host", "127.0.0.1", "--httpPort", "{port}",
        "--lambdaPort", "{lambda_port}", "--websocketPort", "{websocket_port}",
        "--albPort", "{alb_port}", "--noPrependStageInUrl",
    ], cwd=SLS_DIR, env=SLS_ENV, extra_ports=("lambda_port", "websocket_port", "alb_port"))


def npm_versions() -> dict[str, str]:
    """Installed versions of the npm packages (empty when not installed)."""
    found = {}
    for package in ("serverless", "serverless-offline"):
        manifest = SLS_DIR / "node_modules" / package / "package.json"
        if manifest.exists():
            found[package] = str(json.loads(manifest.read_text())["version"])
    return found
