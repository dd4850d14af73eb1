"""The supervisord config `shop up` writes, and the status table it prints."""

from __future__ import annotations

import configparser
from pathlib import Path

from shop_local.paths import VAR
from shop_local.stack.components import render_table
from shop_local.stack.supervisor import DEFAULT_PATHS, Program, SupervisorPaths, render_config

PATHS = SupervisorPaths.under(Path("/srv/shop/var"))
PROGRAMS = [
    Program("user", ["python", "-m", "shop_local.runtime.host", "--service", "user",
                     "--port", "8001"]),
    Program("product", ["python", "-m", "shop_local.runtime.host", "--service", "product"],
            environment={"SHOP_LOG_LEVEL": "DEBUG", "LABEL": "100%"}),
]


def parsed(foreground: bool = False) -> configparser.RawConfigParser:
    config = configparser.RawConfigParser()
    config.read_string(render_config(PROGRAMS, foreground=foreground, paths=PATHS))
    return config


def test_can_keep_supervisords_files_under_the_given_var_dir() -> None:
    config = parsed()
    assert config["unix_http_server"]["file"] == "/srv/shop/var/run/supervisor.sock"
    assert config["supervisord"]["pidfile"] == "/srv/shop/var/run/supervisord.pid"
    assert config["supervisord"]["logfile"] == "/srv/shop/var/logs/supervisord.log"
    assert config["supervisorctl"]["serverurl"] == "unix:///srv/shop/var/run/supervisor.sock"


def test_every_program_restarts_when_it_dies_and_logs_to_its_own_file() -> None:
    config = parsed()
    for name in ("user", "product"):
        section = config[f"program:{name}"]
        assert section["autorestart"] == "true" and section["autostart"] == "true"
        assert section["stdout_logfile"] == f"/srv/shop/var/logs/{name}.log"
        assert section["redirect_stderr"] == "true"
        # Stopping a program stops everything it started.
        assert section["stopasgroup"] == "true" and section["killasgroup"] == "true"


def test_can_render_a_programs_command_and_environment() -> None:
    config = parsed()
    assert config["program:user"]["command"] == (
        "python -m shop_local.runtime.host --service user --port 8001"
    )
    assert "environment" not in config["program:user"]
    # supervisord expands %(...)s itself, so a literal % is written doubled.
    assert config["program:product"]["environment"] == 'SHOP_LOG_LEVEL="DEBUG",LABEL="100%%"'


def test_foreground_mode_keeps_supervisord_attached() -> None:
    assert parsed(foreground=True)["supervisord"]["nodaemon"] == "true"
    assert parsed(foreground=False)["supervisord"]["nodaemon"] == "false"


def test_default_paths_are_under_the_checkouts_var() -> None:
    assert SupervisorPaths.under(VAR) == DEFAULT_PATHS
    assert DEFAULT_PATHS.socket == VAR / "run" / "supervisor.sock"


def test_can_render_the_status_table_in_aligned_columns() -> None:
    table = render_table([
        ("PostgreSQL", "127.0.0.1:5432", "up"),
        ("user service", "http://127.0.0.1:8001", "degraded: cache"),
    ])
    lines = table.splitlines()
    assert lines[0].split() == ["component", "address", "health"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[3].startswith("user service  http://127.0.0.1:8001  degraded: cache")
    # Every column starts at the same offset on every line.
    address, health = lines[0].index("address"), lines[0].index("health")
    assert lines[2][address:].startswith("127.0.0.1:5432")
    assert lines[3][address:].startswith("http://127.0.0.1:8001")
    assert lines[2][health:].rstrip() == "up"
    assert lines[3][health:].rstrip() == "degraded: cache"
