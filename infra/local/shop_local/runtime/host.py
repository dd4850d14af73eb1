"""One service process of the shop: that service's Chalice app run as in AWS.

    python -m shop_local.runtime.host --service user --port 8001 [--access-log FILE]

Its REST API is served on the port by the local API Gateway, its functions run in
execution environments of the local Lambda service, its schedules fire. This process
never imports the app: the function catalog is built in a child process, and every
request and scheduled event runs in an execution environment. The shop's gateway
responses (`infra/api-gateway-responses.json`) keep the gateway's own errors problems,
and so are the HTTP server's own refusals (a malformed request, a header timeout).

Bad settings or missing keys stop it before it serves: exit code 2 and
`<service>: refusing to start: <what is wrong>` on stderr; a port it cannot listen on
(another process holds it), the same line with exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from http import HTTPStatus
from pathlib import Path
from typing import TextIO

import uvloop

from shop_common.errors import PROBLEM_CONTENT_TYPE, Problem
from shop_common.logs import configure_logging
from shop_common.metrics import announce_process
from shop_local.apps import function_dir
from shop_local.paths import GATEWAY_RESPONSES_FILE
from shop_local.private_files import open_private_log
from shop_local.runtime.app_runtime import ProjectConfig, ProjectRuntime, Refused, load_project
from shop_local.runtime.http_server import cannot_listen, listen
from shop_local.runtime.service_check import ServiceRefused, check_service

EXIT_REFUSED = 2


def problem_error(status: int, reason: str) -> tuple[str, bytes]:
    """The HTTP server's own refusals as problems, like every other error of the shop."""
    problem = Problem(status, HTTPStatus(status).phrase, reason, slug="malformed-request")
    return PROBLEM_CONTENT_TYPE, json.dumps(problem.to_dict()).encode()


async def run_service(service: str, config: ProjectConfig, host: str, port: int,
                      access_log: TextIO | None) -> int:
    """Serve `config`'s REST API on host:port until SIGINT or SIGTERM; return the exit code.

    Binds the port, then starts the runtime and closes it after. 0, or 1 (said on stderr)
    when the port could not be bound.
    """
    try:
        sockets = listen(host, port)
    except OSError as exc:
        problem = cannot_listen(exc, host, port, f"SHOP_{service.upper()}_SERVICE_URL")
        print(f"{service}: refusing to start: {problem}", file=sys.stderr)
        return 1
    runtime = ProjectRuntime(config, access_log, render_error=problem_error)
    await runtime.start()
    try:
        await runtime.serve(sockets, host, service)
        return 0
    finally:
        await runtime.close()


def main(argv: list[str] | None = None) -> int:
    """The host's command line (see the module doc); returns the exit code.

    0 after a clean stop, 1 when the port could not be bound, 2 (`EXIT_REFUSED`) for bad
    settings, missing keys or an app that cannot be loaded (the reason on stderr);
    argparse exits 2 for bad arguments.
    """
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--service", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--access-log", type=Path)
    args = parser.parse_args(argv)

    try:
        settings = check_service(args.service)
        config = load_project(function_dir(args.service), args.stage, GATEWAY_RESPONSES_FILE)
    except (ServiceRefused, Refused) as exc:
        print(f"{args.service}: refusing to start: {exc}", file=sys.stderr)
        return EXIT_REFUSED

    # The gateway's and the server's own lines: JSON, and redacted like the functions'.
    configure_logging(args.service, settings.log_level)
    access_log = None
    if args.access_log:
        access_log = open_private_log(args.access_log)
    announce_process(args.service)  # its metrics sidecar pushes while this lives
    try:
        return uvloop.run(run_service(args.service, config, args.host, args.port, access_log))
    finally:
        if access_log is not None:
            access_log.close()


if __name__ == "__main__":
    sys.exit(main())
