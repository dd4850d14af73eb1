"""`shop deploy`'s arguments, apart from deploy/command.py so that `shop` builds its parser
without importing boto3 and the emulator.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# From paths, not deploy.target: target.py pulls boto3 in through deploy.endpoint.
from shop_local.paths import DEPLOY_STATE_DIR, FUNCTIONS


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add `shop deploy [--verify | --destroy | --stop-emulator] [--endpoint URL] [--stage dev]
    [--state-dir DIR]` to the CLI's subcommands (an argparse `_SubParsersAction`) and return
    its parser; the caller sets `run`.
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        "deploy", help="deploy every function app to the emulated cloud (or --verify, --destroy)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--verify", action="store_true",
                        help="list what exists and exit non-zero on any difference")
    action.add_argument("--destroy", action="store_true", help="remove everything deployed")
    action.add_argument("--stop-emulator", action="store_true",
                        help="stop the embedded emulator `shop deploy` started")
    parser.add_argument("--endpoint", help="emulated cloud address (default: AWS_ENDPOINT_URL, "
                                           "else LOCALSTACK_HOST, else 127.0.0.1:4566)")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--state-dir", type=Path, default=DEPLOY_STATE_DIR,
                        help="where staged packages and the emulator's pid and log are kept")
    parser.add_argument("--functions-dir", type=Path, default=FUNCTIONS, help=argparse.SUPPRESS)
    return parser
