"""`shop` starts at once: building its parser imports none of the heavy libraries that only
some commands need (the database layer, the AWS SDK, cryptography, the event loop and file
watcher of `shop serve`, the broker client). Checked in a fresh interpreter, as `shop` runs.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shop_local.deploy import arguments as deploy_arguments
from shop_local.deploy import target
from shop_local.runtime import smtp_sink
from shop_local.stack import mail

HEAVY = ("sqlalchemy", "boto3", "botocore", "cryptography", "uvloop", "watchfiles", "pika")


def modules_loaded_by(code: str) -> set[str]:
    """The top-level names of every module a fresh `python -c code` has imported."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


@pytest.mark.parametrize("code", [
    "import shop_local.cli",
    "from shop_local import cli\ncli.build_parser().parse_args(['logs', 'user-service'])",
])
def test_the_cli_and_its_parser_import_no_heavy_library(code: str) -> None:
    assert sorted(modules_loaded_by(code) & set(HEAVY)) == []


def test_the_light_argument_defaults_are_where_the_heavy_modules_keep_things() -> None:
    assert mail.MAILDIR == smtp_sink.MAILDIR
    assert deploy_arguments.DEFAULT_STATE_DIR == target.DEFAULT_STATE_DIR
