"""`shop serve`'s arguments, apart from serve.py so that `shop` builds its parser without
importing the runtime (uvloop, watchfiles, the app runtime).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from shop_common.setting_values import MAX_PORT
from shop_local.runtime.lambda_settings import DEFAULT_INVOKE_PORT

DEFAULT_PORT = 8000


def port_number(text: str) -> int:
    """`--port` and `--lambda-port`'s value: 0 (any free port) to 65535.
    argparse.ArgumentTypeError otherwise.
    """
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_PORT:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port number (0 to {MAX_PORT}; 0: any free port)")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `PROJECT [--port 8000] [--host 127.0.0.1] [--stage dev] [--lambda-port 3001]
    [--no-autoreload] [--gateway-responses FILE]` to `parser`.
    """
    parser.add_argument("project", type=Path, help="a Chalice project (app.py, .chalice/)")
    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT,
                        help="the REST API's port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--lambda-port", type=port_number, default=DEFAULT_INVOKE_PORT,
                        help="the Lambda Invoke API's port (0: any free port)")
    parser.add_argument("--no-autoreload", dest="autoreload", action="store_false",
                        help="do not reload when the code changes")
    parser.add_argument("--gateway-responses", type=Path,
                        help="an x-amazon-apigateway-gateway-responses JSON file "
                             "(default: API Gateway's stock answers)")
