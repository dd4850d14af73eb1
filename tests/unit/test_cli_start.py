"""`shop` starts at once: building its parser imports none of the heavy libraries that only
some commands need (the database layer, the AWS SDK, cryptography, the event loop and file
watcher of `shop serve`, the broker client, supervisor's XML-RPC client). Checked in a fresh
interpreter, as `shop` runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shop_local import cli, paths
from shop_local.deploy import target
from shop_local.runtime import smtp_sink

HEAVY = ("sqlalchemy", "boto3", "botocore", "cryptography", "uvloop", "watchfiles", "pika")
# Only the commands that talk to supervisord need its package (~40 ms of imports).
NOT_FOR_THE_PARSER = (*HEAVY, "supervisor")


def all_modules_loaded_by(code: str) -> set[str]:
    """The full names of every module a fresh `python -c code` has imported."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def modules_loaded_by(code: str) -> set[str]:
    """The top-level names of every module a fresh `python -c code` has imported."""
    return {name.split(".")[0] for name in all_modules_loaded_by(code)}


@pytest.mark.parametrize("code", [
    "import shop_local.cli",
    "from shop_local import cli\ncli.build_parser().parse_args(['logs', 'user-service'])",
])
def test_the_cli_and_its_parser_import_no_heavy_library(code: str) -> None:
    assert sorted(modules_loaded_by(code) & set(NOT_FOR_THE_PARSER)) == []


def test_shop_status_reads_the_emulators_status_file_without_the_emulator() -> None:
    # `shop status`'s path past the parser: its table, the events' rows (the mapping file read,
    # its queues and vhost) and an MQ emulator's health read from the status file. No broker
    # client: the mapping file's reader takes the topology from shop_common.topology.
    # pydantic is left out of the check: the mapping file is validated with pydantic models,
    # and the observability rows read shop_common.config.
    loaded = all_modules_loaded_by(
        "from shop_local.stack import events, status\n"
        "events.components({'SHOP_AMQP_URL': 'amqp://shop:x@127.0.0.1:5672/shop'})\n"
        "events.emulator_health('communication')")
    assert "shop_local.runtime.mq_emulator" not in loaded
    assert "shop_common.messaging" not in loaded
    assert sorted({m.split(".")[0] for m in loaded} & set(HEAVY)) == []


def test_shop_mail_and_shop_deploy_default_to_the_folders_the_stack_uses() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["mail"]).maildir == smtp_sink.MAILDIR == paths.VAR / "mail"
    state_dir = parser.parse_args(["deploy"]).state_dir
    assert state_dir == target.DeployTarget.state_dir == paths.VAR / "deploy"


def test_the_keys_folder_is_a_path_whether_relative_or_absolute(tmp_path: Path) -> None:
    # An absolute SHOP_KEYS_DIR came back as a str, and `shop up` then failed on `.mkdir`.
    from shop_local.cli import keys_dir
    from shop_local.paths import ROOT

    assert keys_dir({"SHOP_KEYS_DIR": str(tmp_path / "keys")}) == tmp_path / "keys"
    assert keys_dir({"SHOP_KEYS_DIR": "var/other"}) == ROOT / "var/other"
    assert keys_dir({}) == ROOT / "var/keys"
    assert all(isinstance(keys_dir(env), Path) for env in ({}, {"SHOP_KEYS_DIR": "/k"}))
