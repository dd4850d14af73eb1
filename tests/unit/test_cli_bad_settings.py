"""A `.env` number that is not one (a port, an interval, a URL's port, a Redis database) stops
`shop` with one line per bad setting, naming the variable and what it must be, and exit 2:
never a ValueError traceback, and never after something was started or removed.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

import pytest

from shop_common.setting_values import (
    SettingsError,
    check_each,
    port_setting,
    seconds_setting,
    url_port_setting,
)
from shop_local import cli
from shop_local.deploy import cloud_settings
from shop_local.deploy.endpoint import Endpoint
from shop_local.paths import ENV_EXAMPLE
from shop_local.runtime.app_runtime import Refused, load_project
from shop_local.runtime.schedules import override_seconds
from shop_local.stack import backing, reset, supervisor


@pytest.fixture
def env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The stack's `.env` in `tmp_path`: the example's settings, to which a test appends."""
    path = tmp_path / ".env"
    path.write_text(ENV_EXAMPLE.read_text().replace("__GENERATED__", "generated-secret")
                    + "SHOP_SUPERADMIN_PASSWORD=a-long-enough-password\n")
    monkeypatch.setattr(cli, "ENV_FILE", path)
    monkeypatch.setattr(cli, "ROOT", tmp_path)
    monkeypatch.setenv("SHOP_ENV_FILE", str(path))  # prepare_env points it here; restored
    return path


def run_shop(argv: list[str], env_file: Path, settings: str,
             capfd: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """`shop argv` with `settings` (lines) appended to `.env`: its exit status and its
    `shop:` lines.
    """
    with env_file.open("a") as env:
        env.write(settings)
    status = cli.main(argv)
    captured = capfd.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return status, [line for line in captured.out.splitlines() if line.startswith("shop: ")]


@pytest.mark.parametrize("argv", [["status"], ["logs", "user"], ["create-superadmin"]])
def test_each_bad_number_is_one_line_and_exit_2(argv: list[str], env_file: Path,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    status, lines = run_shop(argv, env_file, "SHOP_METRICS_PUSH_SECONDS=abc\n"
                             "SHOP_SMTP_PORT=x\nSHOP_LAMBDA_INVOKE_PORT=70000\n"
                             "SHOP_USER_SERVICE_URL=http://127.0.0.1:80o1\n"
                             "SHOP_PROMETHEUS_URL=http://127.0.0.1\n", capfd)
    assert status == cli.EXIT_BAD_SETTINGS == 2
    assert lines == [
        "shop: SHOP_LAMBDA_INVOKE_PORT: '70000' is not a port number (1 to 65535)",
        "shop: SHOP_USER_SERVICE_URL: 'http://127.0.0.1:80o1' names a port that is not a "
        "number from 1 to 65535",
        "shop: SHOP_SMTP_PORT: 'x' is not a port number (1 to 65535)",
        "shop: SHOP_METRICS_PUSH_SECONDS: 'abc' is not a number of seconds (more than 0)",
        "shop: SHOP_PROMETHEUS_URL: 'http://127.0.0.1' is not a URL with a port "
        "(scheme://host:port)",
    ]


def test_good_numbers_pass_the_check(env_file: Path) -> None:
    from shop_local.envfile import read_env

    cli.check_settings(read_env(env_file))


def test_setup_refuses_before_starting_anything(env_file: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    def must_not_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("set-up went ahead with a bad .env")

    monkeypatch.setattr(backing, "ensure_backing_services", must_not_run)
    status, lines = run_shop(
        ["setup"], env_file,
        "SHOP_PG_ADMIN_URL=postgresql://postgres:admin-secret@127.0.0.1:54x2/postgres\n"
        "SHOP_USER_REDIS_URL=redis://shop-user:user-secret@127.0.0.1:6379/one\n"
        "SHOP_ORDER_DATABASE_URL=postgresql+pg8000://o:order-secret@127.0.0.1:99999/o\n"
        "SHOP_METRICS_PUSH_SECONDS=-1\n", capfd)
    assert status == 2
    assert lines == [
        "shop: SHOP_PG_ADMIN_URL: 'postgresql://postgres:[redacted]@127.0.0.1:54x2/postgres' "
        "names a port that is not a number from 1 to 65535",
        "shop: SHOP_USER_REDIS_URL: 'redis://shop-user:[redacted]@127.0.0.1:6379/one' names a "
        "database that is not a number (redis://host:port/0)",
        "shop: SHOP_ORDER_DATABASE_URL: 'postgresql+pg8000://o:[redacted]@127.0.0.1:99999/o' "
        "names a port that is not a number from 1 to 65535",
        "shop: SHOP_METRICS_PUSH_SECONDS: '-1' is not a number of seconds (more than 0)",
    ]


def test_reset_refuses_before_stopping_or_removing_anything(
        env_file: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    def must_not_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("reset went ahead with a bad .env")

    monkeypatch.setattr(supervisor, "shutdown", must_not_run)
    monkeypatch.setattr(backing, "ensure_backing_services", must_not_run)
    monkeypatch.setattr(reset, "remove_provisioned", must_not_run)
    status, lines = run_shop(["reset", "--yes"], env_file,
                             "SHOP_REDIS_ADMIN_URL=redis://127.0.0.1:redis/0\n", capfd)
    assert status == 2
    assert lines == ["shop: SHOP_REDIS_ADMIN_URL: 'redis://127.0.0.1:redis/0' names a port "
                     "that is not a number from 1 to 65535"]


def test_a_settings_error_raised_deeper_is_said_too(monkeypatch: pytest.MonkeyPatch,
                                                    capfd: pytest.CaptureFixture[str]) -> None:
    # e.g. a service's settings refused by shop_common.config during set-up.
    def refuses(_args: argparse.Namespace) -> int:
        raise SettingsError("invalid settings: SHOP_USER_DB_POOL_SIZE (or SHOP_DB_POOL_SIZE): "
                            "Input should be a valid integer")

    monkeypatch.setattr(cli, "cmd_setup", refuses)
    assert cli.main(["setup"]) == 2
    assert capfd.readouterr().out == ("shop: invalid settings: SHOP_USER_DB_POOL_SIZE (or "
                                      "SHOP_DB_POOL_SIZE): Input should be a valid integer\n")


@pytest.mark.parametrize(("raw", "expected"), [("", 1025), ("  ", 1025), ("2525", 2525),
                                               (" 1 ", 1), ("65535", 65535)])
def test_a_port_setting(raw: str, expected: int) -> None:
    assert port_setting({"SHOP_SMTP_PORT": raw}, "SHOP_SMTP_PORT", 1025) == expected


@pytest.mark.parametrize("raw", ["x", "0", "65536", "-1", "+25", "25.0", "\u0663"])
def test_not_a_port(raw: str) -> None:
    with pytest.raises(SettingsError, match=r"^SHOP_SMTP_PORT: .* is not a port number"):
        port_setting({"SHOP_SMTP_PORT": raw}, "SHOP_SMTP_PORT", 1025)


@pytest.mark.parametrize(("raw", "expected"), [("", 5.0), ("0.5", 0.5), ("30", 30.0)])
def test_a_seconds_setting(raw: str, expected: float) -> None:
    assert seconds_setting({"S": raw}, "S", 5.0) == expected


@pytest.mark.parametrize("raw", ["abc", "0", "-2", "nan", "inf", "1e400"])
def test_not_seconds(raw: str) -> None:
    with pytest.raises(SettingsError, match=r"^S: .* is not a number of seconds"):
        seconds_setting({"S": raw}, "S", 5.0)


def test_a_urls_port_default_and_password() -> None:
    assert url_port_setting({}, "U", "http://127.0.0.1:9090") == 9090
    assert url_port_setting({"U": "postgresql://a@db"}, "U", default_port=5432) == 5432
    with pytest.raises(SettingsError) as raised:
        url_port_setting({"U": "amqp://shop:hunter2@127.0.0.1:[5672]/shop"}, "U")
    assert "hunter2" not in str(raised.value) and str(raised.value).startswith("U: ")


def test_check_each_gathers_one_line_per_bad_setting() -> None:
    env = {"A": "x", "B": "8080", "C": "y"}
    with pytest.raises(SettingsError) as raised:
        check_each(partial(port_setting, env, name, 1) for name in ("A", "B", "C"))
    assert str(raised.value).splitlines() == [
        "A: 'x' is not a port number (1 to 65535)", "C: 'y' is not a port number (1 to 65535)"]


def test_shop_serve_refuses_a_bad_schedule_override(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.setenv("SHOP_LOCAL_SCHEDULE_SECONDS", "soon")
    with pytest.raises(Refused, match=r"^SHOP_LOCAL_SCHEDULE_SECONDS: 'soon' is not a number"):
        load_project(tmp_path, "dev")
    monkeypatch.setenv("SHOP_LOCAL_SCHEDULE_SECONDS", "-5")  # fired in a tight loop before
    with pytest.raises(SettingsError):
        override_seconds()
    monkeypatch.setenv("SHOP_LOCAL_SCHEDULE_SECONDS", "0.2")
    assert override_seconds() == 0.2


def test_shop_deploy_refuses_a_bad_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:45six6")
    with pytest.raises(SettingsError, match=r"^AWS_ENDPOINT_URL: "):
        Endpoint.resolve()
    with pytest.raises(SettingsError, match=r"^--endpoint: "):
        Endpoint.resolve("127.0.0.1:x")
    env = {"SHOP_USER_DATABASE_URL": "postgresql+pg8000://u:pw@127.0.0.1:5432/u",
           "SHOP_REDIS_URL": "redis://127.0.0.1:637910/0",
           "SHOP_ORDER_AMQP_URL": "amqp://o:pw@127.0.0.1:amqp/shop"}
    with pytest.raises(SettingsError) as raised:
        cloud_settings.check_url_ports(env, ["user", "order"])
    assert str(raised.value).splitlines() == [
        "SHOP_REDIS_URL: 'redis://127.0.0.1:637910/0' names a port that is not a number from 1 "
        "to 65535",
        "SHOP_ORDER_AMQP_URL: 'amqp://o:[redacted]@127.0.0.1:amqp/shop' names a port that is "
        "not a number from 1 to 65535"]


def test_a_task_whose_service_refuses_its_settings_is_a_settings_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # `shop create-superadmin` with SHOP_USER_SERVICE_URL=http://127.0.0.1:80011 printed the
    # child's 28-line traceback and exited 1.
    from shop_local.stack import task

    monkeypatch.setenv("SHOP_USER_SERVICE_URL", "http://127.0.0.1:80011")
    with pytest.raises(SettingsError, match="SHOP_USER_SERVICE_URL") as refused:
        task.run_task("user", "create_superadmin",
                      {"email": "root@example.com", "password": "a-long-enough-password"})
    assert "Traceback" not in str(refused.value)


def test_generated_secrets_go_into_settings_and_never_into_comments() -> None:
    from shop_local.envfile import generate_secrets

    # The example's second line explains the marker; the first `.env` had a secret there.
    written = generate_secrets("# replaces every __GENERATED__ with a secret\n"
                               "  # __GENERATED__ too\nA=__GENERATED__\nB=x-__GENERATED__\n")
    lines = written.splitlines()
    assert lines[:2] == ["# replaces every __GENERATED__ with a secret", "  # __GENERATED__ too"]
    assert "__GENERATED__" not in "".join(lines[2:])
    assert len(lines[2]) == len("A=") + 24 and lines[3].startswith("B=x-")
