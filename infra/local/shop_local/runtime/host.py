"""One service process: that service's Chalice app behind `chalice.local`'s gateway.

Same API Gateway event conversion and authorizer handling as `chalice local`, with
two fixes for load: TCP_NODELAY on every connection (the stock handler writes the
headers and the body separately, and Nagle + delayed ACK then stall each reused
connection ~40 ms) and a listen backlog of 256 instead of 5.

Run as `python -m shop_local.runtime.host --service user --port 8001`. One process per
service, because Chalice imports every app as `app` and `chalicelib`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from http import HTTPStatus
from pathlib import Path
from types import FrameType
from typing import Any

from chalice.cli.factory import CLIFactory
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
)
from chalice.local import ThreadedHTTPServer as ChaliceThreadedHTTPServer

from shop_common.config import SettingsError
from shop_common.errors import PROBLEM_CONTENT_TYPE, Problem
from shop_common.metrics import announce_process
from shop_common.redaction import redact_text
from shop_common.runtime import get_runtime
from shop_local.apps import function_dir
from shop_local.private_files import open_private_log
from shop_local.runtime.schedules import ScheduleRunner, scheduled_functions

log = logging.getLogger("shop.host")

# The client went away before its answer was written: nothing is wrong with the server.
CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)

# The HTTP server this front runs on; `make bench` measures the raw floor of the same one.
HTTP_SERVER = "http.server"


class ShopRequestHandler(ChaliceRequestHandler):
    disable_nagle_algorithm = True  # StreamRequestHandler sets TCP_NODELAY in setup()
    access_log: Any = None

    def setup(self) -> None:
        super().setup()
        # API Gateway puts the caller's address in requestContext.identity.sourceIp;
        # chalice.local writes 127.0.0.1 for everyone, which would make every local
        # client one client to the login throttle.
        self.local_gateway.event_converter.LOCAL_SOURCE_IP = self.client_address[0]

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib signature
        if self.access_log is not None:
            # The request line can carry a token in its query string.
            line = redact_text(format % args)
            self.access_log.write(
                f'{self.client_address[0]} - - [{self.log_date_time_string()}] {line}\n'
            )
            self.access_log.flush()

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """The HTTP server's own refusals (400 malformed request line, 414 URI too long,
        431, 501) as problems too, instead of http.server's HTML page.

        The detail is the status' standard description, never the stdlib's message,
        which quotes the raw request line (and whatever token its query string held).
        """
        self.log_error("code %d, message %s", code, message)
        status = HTTPStatus(code)
        problem = Problem(code, status.phrase, status.description, slug="bad-http-request")
        body = json.dumps(problem.to_dict()).encode()
        self.send_response(code, status.phrase)
        self.send_header("Content-Type", PROBLEM_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(body)

    def _send_error_response(self, error: LocalGatewayException) -> None:
        # The gateway's own refusals (no such route, as API Gateway's 403 "Missing
        # Authentication Token") become problems too. API Gateway's text would echo
        # the caller's Authorization header back; a problem never does. In the cloud
        # the same is a gateway response template.
        status = int(error.CODE)
        problem = Problem(status, HTTPStatus(status).phrase,
                          f"no route for {self.command} {self.path.split('?', 1)[0]}",
                          slug="no-route")
        self._send_http_response(status, {"Content-Type": PROBLEM_CONTENT_TYPE},
                                 json.dumps(problem.to_dict()))


class ShopHTTPServer(ChaliceThreadedHTTPServer):
    request_queue_size = 256
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a failed request through logging, never socketserver's raw traceback print.

        The stock handler prints the traceback to stderr, and the exception being
        handled can hold the request's Authorization header (chalice.local's 403 for an
        unknown route quotes it); logging redacts it. A client that hung up is one line.
        """
        error = sys.exc_info()[1]
        peer = client_address[0] if isinstance(client_address, tuple) else client_address
        if isinstance(error, CLIENT_GONE):
            log.info("client %s went away before its response was written (%s)",
                     peer, type(error).__name__)
            return
        log.error("error while serving a request from %s", peer, exc_info=True)


def load_app(service: str, stage: str) -> tuple[Any, Any, Any]:
    project_dir = function_dir(service)
    os.chdir(project_dir)
    factory = CLIFactory(project_dir=str(project_dir), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    app = factory.load_chalice_app(config.environment_variables)
    return app, sys.modules["app"], config


def build_server(app: Any, config: Any, host: str, port: int) -> LocalDevServer:
    # The same class swap `chalice.local.create_local_server` does: it makes
    # `app.current_request` thread-local, so concurrent requests never mix.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(
        app, config, host, port, handler_cls=ShopRequestHandler, server_cls=ShopHTTPServer
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--access-log", type=Path)
    args = parser.parse_args(argv)

    app, app_module, config = load_app(args.service, args.stage)
    try:
        get_runtime(args.service)
    except SettingsError as exc:
        print(f"{args.service}: refusing to start: {exc}", file=sys.stderr)
        return 2

    if args.access_log:
        ShopRequestHandler.access_log = open_private_log(args.access_log)

    override = os.environ.get("SHOP_LOCAL_SCHEDULE_SECONDS")
    schedules = ScheduleRunner(
        scheduled_functions(app, app_module, float(override) if override else None),
        app.app_name,
    )
    server = build_server(app, config, args.host, args.port)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        schedules.stop()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    announce_process(args.service)  # its metrics sidecar pushes while this lives
    schedules.start()
    print(f"{args.service}: serving on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
