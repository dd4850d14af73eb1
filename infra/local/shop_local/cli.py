"""`shop`: set up, start, stop and inspect the local stack; serve any Chalice project."""

from __future__ import annotations

import argparse
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

# Only light modules here, so that `shop --help`, `shop logs` and `shop status` start at once:
# each command imports what it needs (SQLAlchemy, boto3, cryptography, uvloop, pg8000, and
# supervisor's XML-RPC client, ...) inside the function that runs it.
from dotenv import set_key, unset_key

from shop_common.setting_values import SettingsError, check_each, url_port_setting
from shop_common.superadmin_answer import SuperadminAnswer, SuperadminOutcome
from shop_local.deploy import arguments as deploy_arguments
from shop_local.envfile import ensure_env_file, read_env
from shop_local.paths import ENV_EXAMPLE, ENV_FILE, LOGS, ROOT
from shop_local.probes import pid_alive, wait_for
from shop_local.runtime import serve_args
from shop_local.stack import mail

if TYPE_CHECKING:
    from shop_local.stack.supervisor import SupervisorPaths

HEALTH_TIMEOUT_SECONDS = 60
# How long `shop down` waits, after supervisord's own shutdown wait (60 s), for its socket
# to stop answering.
QUIET_SOCKET_SECONDS = 30
DEFAULT_REDIS_ADMIN = "redis://127.0.0.1:6379/0"
# `shop`'s exit status, after one line per bad setting, when a setting is refused
# (SettingsError: a `.env` number that is not one, checked before anything is done), as
# argparse's for a bad argument.
EXIT_BAD_SETTINGS = 2


def say(message: str) -> None:
    """Print `shop: <message>` at once."""
    print(f"shop: {message}", flush=True)


def prepare_env() -> tuple[dict[str, str], str | None]:
    """The stack's `.env` as a dict, created or brought up to date first (saying what changed),
    and the superadmin password generated into it now (None when it already had one).
    SHOP_ENV_FILE is pointed at it for the processes `shop` starts. The password is not
    printed here: only `set_up` knows whether the account takes it (see `superadmin_report`).
    """
    result = ensure_env_file(ENV_FILE, ENV_EXAMPLE)
    if result.created:
        say(f"created {ENV_FILE.relative_to(ROOT)} with generated secrets")
    if result.updated:
        say(f"updated {ENV_FILE.relative_to(ROOT)}: {', '.join(result.updated)}")
    os.environ["SHOP_ENV_FILE"] = str(ENV_FILE)
    return read_env(ENV_FILE), result.superadmin_password


def load_env() -> dict[str, str]:
    """`prepare_env`'s settings, for commands that create no superadmin: a password generated
    now is only announced, since no account has it yet.
    """
    env, generated = prepare_env()
    if generated:
        say(f"generated SHOP_SUPERADMIN_PASSWORD in {ENV_FILE.relative_to(ROOT)}; "
            "`shop up` creates the superadmin with it")
    return env


# Set in `.env` while its SHOP_SUPERADMIN_PASSWORD is known not to be the account's, so that
# `make postman` (tests/postman/newman.sh) stops with this reason instead of failing logins.
NOT_IN_EFFECT_SETTING = "SHOP_SUPERADMIN_PASSWORD_NOT_IN_EFFECT"


def superadmin_report(answer: SuperadminAnswer, generated: str | None) -> tuple[str, bool]:
    """What `shop` says about the superadmin after the `create_superadmin` task gave
    `answer`, and whether `.env`'s SHOP_SUPERADMIN_PASSWORD is the account's password.

    A password generated now (`generated`) is printed only when the account was created
    with it; an account that existed keeps its own password, which is never printed.
    """
    env_name = ENV_FILE.name
    if answer.outcome is SuperadminOutcome.OTHER_PASSWORD:
        return (f"superadmin {answer.email} already exists; its password was left as it is, "
                f"and it is not the SHOP_SUPERADMIN_PASSWORD in {env_name}"
                f"{' (generated now, so not shown)' if generated else ''}. Put the working "
                f"password there, or `shop reset` and `shop up` to start over (all data is "
                f"removed)"), False
    if answer.outcome is SuperadminOutcome.CREATED and generated:
        return (f"{answer.says}, with a generated password (shown once; it is kept in "
                f"{env_name}):\n\n    {answer.email}  /  {generated}\n"), True
    # Created with `.env`'s own password, or found with it.
    return f"{answer.says}; its password is SHOP_SUPERADMIN_PASSWORD in {env_name}", True


def record_password_in_effect(in_effect: bool, email: str) -> None:
    """Mark `.env` (NOT_IN_EFFECT_SETTING) while its superadmin password is not the account's,
    and clear the mark once it is. OSError when `.env` cannot be written.
    """
    if in_effect:
        if NOT_IN_EFFECT_SETTING in read_env(ENV_FILE):
            unset_key(str(ENV_FILE), NOT_IN_EFFECT_SETTING)
        return
    reason = (f"superadmin {email} existed before this SHOP_SUPERADMIN_PASSWORD and kept its own "
              "password (`shop setup` says so and what to do)")
    set_key(str(ENV_FILE), NOT_IN_EFFECT_SETTING, reason, quote_mode="always")


class NotASuperadmin(RuntimeError):
    """The address is an existing account of another role, which was left as it is; the
    message says so and what to do.
    """


def create_superadmin(email: str, password: str) -> SuperadminAnswer:
    """Run the user service's `create_superadmin` task and return its answer. NotASuperadmin
    when the address belongs to an account of another role (its role is never changed);
    task.ArgumentsRefused (one line per wrong field) when the email or password is not one
    sign-up accepts; RuntimeError when the task fails.
    """
    from shop_local.stack import task

    answer = task.read_superadmin_answer(
        task.run_task("user", "create_superadmin", {"email": email, "password": password}))
    if answer.outcome is SuperadminOutcome.OTHER_ROLE:
        raise NotASuperadmin(
            f"{answer.says}: no `shop` command or API changes an account's role. Choose another "
            f"address (`shop create-superadmin --email E`, or SHOP_SUPERADMIN_EMAIL in "
            f"{ENV_FILE.name})")
    return answer


def ensure_superadmin(env: dict[str, str], generated_password: str | None) -> bool:
    """Create `.env`'s superadmin through the user service's task (an existing account is left
    as it is), say what became of it and mark `.env` accordingly (`record_password_in_effect`).
    True when `.env`'s SHOP_SUPERADMIN_PASSWORD is now the account's password, False when an
    existing superadmin kept another. RuntimeError when the task fails, NotASuperadmin when
    the address is an enduser's.
    """
    email = env["SHOP_SUPERADMIN_EMAIL"]
    answer = create_superadmin(email, env["SHOP_SUPERADMIN_PASSWORD"])
    report, in_effect = superadmin_report(answer, generated_password)
    say(report)
    record_password_in_effect(in_effect, email)
    return in_effect


def keys_dir(env: dict[str, str]) -> Path:
    """The signing keys' folder: SHOP_KEYS_DIR (`var/keys`), relative to the checkout unless
    absolute.
    """
    path = env.get("SHOP_KEYS_DIR", "var/keys")
    return ROOT / path  # an absolute `path` replaces ROOT


def pg_admin_url(env: dict[str, str]) -> str:
    """SHOP_PG_ADMIN_URL (KeyError when `.env` has none)."""
    return env["SHOP_PG_ADMIN_URL"]


def redis_admin_url(env: dict[str, str]) -> str:
    """SHOP_REDIS_ADMIN_URL, else DEFAULT_REDIS_ADMIN."""
    return env.get("SHOP_REDIS_ADMIN_URL") or DEFAULT_REDIS_ADMIN


def check_provisioning_settings(env: dict[str, str]) -> None:
    """SettingsError, one line per setting, when a number that set-up or reset take from
    `.env` is not one: the administrators' URLs' ports, and the ports of each provisioned
    service's database, Redis and broker URLs and its Redis database
    (`provision.number_readers`).
    """
    from shop_local.stack import provision

    check_each([
        lambda: url_port_setting(env, "SHOP_PG_ADMIN_URL", default_port=5432),
        lambda: url_port_setting(env, "SHOP_REDIS_ADMIN_URL", DEFAULT_REDIS_ADMIN, 6379),
        *provision.number_readers(env),
    ])


def check_settings(env: dict[str, str]) -> None:
    """`check_provisioning_settings` and the numbers of the stack's programs and status rows
    (status.check_settings), all bad settings in one SettingsError, one line each.
    """
    from shop_local.stack import status

    check_each([lambda: check_provisioning_settings(env), lambda: status.check_settings(env)])


def warn_about_the_host(env: dict[str, str]) -> None:
    """One line per hole in the host's own PostgreSQL, Redis or RabbitMQ set-up."""
    from shop_local.stack import host_checks, provision, redis_users

    pg_admin = provision.admin_connection(pg_admin_url(env))
    redis_admin = redis_users.admin_client(redis_admin_url(env))
    try:
        for warning in host_checks.host_warnings(pg_admin, redis_admin):
            say(f"warning: {warning}")
    finally:
        pg_admin.close()
        redis_admin.close()


def set_up(env: dict[str, str], generated_password: str | None = None) -> None:
    """Everything `shop up` does before starting processes; safe to repeat.
    `generated_password`: the superadmin password `prepare_env` generated now, printed once
    if the account is created with it. SettingsError (`check_settings`), before anything is
    done, when `.env` has a number that is not one.
    """
    from shop_common.keys import generate_keys
    from shop_local.stack import events, observability, provision
    from shop_local.stack.backing import ensure_backing_services
    from shop_local.stack.task import run_task

    check_settings(env)
    ensure_backing_services(say)
    warn_about_the_host(env)
    provision.prepare_service_databases(env, pg_admin_url(env), lambda _: None)
    provision.prepare_broker(env, lambda _: None)
    provision.prepare_cache_users(env, redis_admin_url(env), lambda _: None)
    created = generate_keys(keys_dir(env))
    if created:
        say(f"generated signing keys: {', '.join(created)}")
    ensure_superadmin(env, generated_password)
    say(run_task("product", "seed_demo_products", {}))
    events.set_up(env)
    observability.set_up(env)


def wait_until_healthy(env: dict[str, str], child: subprocess.Popen[bytes] | None) -> bool:
    """Wait for every component, giving up early if a foreground supervisord died."""
    from shop_local.stack import status

    def settled() -> bool:
        return (child is not None and child.poll() is not None) or status.status_table(env)[1]

    return wait_for(settled, HEALTH_TIMEOUT_SECONDS, interval=0.5) and (
        child is None or child.poll() is None)


def supervisor_paths(paths: SupervisorPaths | None) -> SupervisorPaths:
    """`paths`, or those of the stack's own supervisord (`var/`) when None."""
    from shop_local.stack import supervisor

    return supervisor.DEFAULT_PATHS if paths is None else paths


def already_running(paths: SupervisorPaths | None = None) -> str | None:
    """What a second `shop up` says while one runs, instead of failing on a busy port
    (None when no supervisord answers on `paths`' socket; default: the stack's).
    """
    from shop_local.stack import supervisor

    pid = supervisor.running_pid(supervisor_paths(paths))
    if pid is None:
        return None
    return (f"the stack is already running (supervisord pid {pid}); "
            "see `shop status`, or stop it with `shop down`")


def cmd_up(args: argparse.Namespace, paths: SupervisorPaths | None = None) -> int:
    """`shop up [--detach]`: set up, start supervisord with every program and wait up to 60 s
    for every component to be healthy. Returns 0 (also when a stack already runs), 1 when
    supervisord exits at once or, detached, when not everything became healthy; in the
    foreground it returns once Ctrl-C or SIGTERM stopped the stack. `paths`: the supervisord's
    folders (default: the stack's, under `var/`).
    """
    from shop_local.stack import supervisor

    paths = supervisor_paths(paths)
    running = already_running(paths)
    if running is not None:
        say(running)
        return 0
    from shop_local.stack import status

    env, generated_password = prepare_env()
    set_up(env, generated_password)
    programs = status.all_programs(env)
    child = supervisor.start(programs, foreground=not args.detach, paths=paths)
    healthy = wait_until_healthy(env, child)
    if child is not None and child.poll() is not None:
        say(f"supervisord exited at start; see {paths.logs / 'supervisord.log'}")
        return 1
    table, _ = status.status_table(env)
    print(table, flush=True)
    if not healthy:
        say(f"not everything is healthy yet; logs are in {LOGS.relative_to(ROOT)}/")
    if child is None:
        say("running in the background; `shop down` stops it")
        return 0 if healthy else 1
    say("running; press Ctrl-C to stop everything")
    return wait_for_foreground(child)


def wait_for_foreground(child: subprocess.Popen[bytes]) -> int:
    """Forward SIGINT and SIGTERM to the foreground supervisord as SIGTERM and wait until it
    exits; 0.
    """
    def forward(_signum: int, _frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    while child.poll() is None:
        time.sleep(0.2)
    say("stopped")
    return 0


NOT_RUNNING, STOPPED, STILL_RUNNING = "not running", "stopped", "still running"


def stop_stack(paths: SupervisorPaths) -> str:
    """Stop supervisord and its programs, waiting for it to exit (up to 60 s) and its socket
    to go quiet (up to 30 s more): NOT_RUNNING when no stack ran, STOPPED, or STILL_RUNNING
    (said what to do) when supervisord is still alive or still answering after those waits.
    """
    from shop_local.stack import supervisor

    pid = supervisor.running_pid(paths)
    if pid is None or not supervisor.shutdown(paths):
        return NOT_RUNNING

    def stopped() -> bool:
        return not pid_alive(pid) and supervisor.running_pid(paths) is None

    if wait_for(stopped, QUIET_SOCKET_SECONDS):
        return STOPPED
    say(f"supervisord (pid {pid}) has not stopped: a program may be slow to exit (see "
        f"{paths.log_of('supervisord')}). Run `shop down` again, or end it with "
        f"`kill {pid}` (`kill -9 {pid}` if it does not exit)")
    return STILL_RUNNING


def cmd_down(_args: argparse.Namespace, paths: SupervisorPaths | None = None) -> int:
    """`shop down`: stop supervisord and its programs (`stop_stack`). 0 when it stopped or no
    stack ran; 1, saying what to do, when supervisord is still alive or still answering, or
    does not answer at all (stopped with `kill -STOP`, stuck).
    `paths`: the supervisord's folders (default: the stack's, under `var/`).
    """
    from shop_local.stack.supervisor import NotAnswering

    try:
        outcome = stop_stack(supervisor_paths(paths))
    except NotAnswering as exc:
        say(str(exc))
        return 1
    if outcome == NOT_RUNNING:
        say("the stack is not running")
    elif outcome == STOPPED:
        say("stopped")
    return 1 if outcome == STILL_RUNNING else 0


def cmd_status(_args: argparse.Namespace, paths: SupervisorPaths | None = None) -> int:
    """`shop status`: print the health table and each program's state; 0 when every component is
    healthy, else 1 (also when supervisord does not answer, said with what to do). `paths`: the
    supervisord's folders (default: the stack's, under `var/`).
    """
    from shop_local.stack import status, supervisor

    env = load_env()
    status.check_settings(env)
    table, healthy = status.status_table(env)
    print(table)
    try:
        states = supervisor.process_states(supervisor_paths(paths))
    except supervisor.NotAnswering as exc:
        print(f"\nprocesses: unknown: {exc}")
        return 1
    if states:
        print("\nprocesses: " + ", ".join(f"{n} {s}" for n, s in sorted(states.items())))
    else:
        print("\nprocesses: the stack is not running (`shop up --detach` starts it)")
    return 0 if healthy else 1


# A Lambda function name's characters (CreateFunction's FunctionName, without the ARN forms):
# nothing that could lead a log path out of var/logs/lambda.
FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def log_names() -> set[str]:
    """The names `shop logs` takes: every program `shop up` supervises (from `.env`, or the
    example before there is one), `supervisord`, and `lambda/<function-name>` for each
    function the running stack has registered or whose log is in `var/logs/lambda/`.
    """
    from shop_local.runtime.lambda_registry import owners
    from shop_local.stack import services, status

    env = read_env(ENV_FILE if ENV_FILE.exists() else ENV_EXAMPLE)
    status.check_settings(env)
    names = {program.name for program in status.all_programs(env)} | {"supervisord"}
    functions = {path.stem for path in (LOGS / "lambda").glob("*.log")}
    functions |= set(owners(services.LAMBDA_REGISTRY, prune=False))
    names |= {f"lambda/{name}" for name in functions if FUNCTION_NAME.fullmatch(name)}
    return names


def cmd_logs(args: argparse.Namespace) -> int:
    """`shop logs NAME [-f] [-n 50]`: `tail` the last lines of `var/logs/<NAME>.log` (following
    it with `-f`); 2, listing the names, when NAME is none of `log_names` (so no path outside
    `var/logs` is ever read), 1 when that log is not written yet, else tail's exit status.
    """
    names = log_names()
    if args.service not in names:
        say(f"there is no log called {args.service!r}; the names are: "
            f"{', '.join(sorted(names))}")
        return 2
    path = LOGS / f"{args.service}.log"
    if not path.exists():
        # A function's log starts with its first invocation: a schedule's within a minute.
        why = (" (a function's log is written from its first invocation on)"
               if args.service.startswith("lambda/") else "")
        say(f"no log for {args.service!r} yet ({path}){why}")
        return 1
    command = ["tail", "-n", str(args.lines)] + (["-F"] if args.follow else []) + [str(path)]
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


MAX_LOG_LINES = 1_000_000_000  # far past any log here, and well inside what `tail` takes


def line_count(text: str) -> int:
    """`shop logs -n`'s value: a whole number of lines, 0 to MAX_LOG_LINES (0 with `-f`: only
    lines written from now on, as `tail -n 0 -F`). argparse.ArgumentTypeError otherwise.
    """
    try:
        lines = int(text)
    except ValueError:
        lines = -1
    if lines < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of lines (0 or more)")
    if lines > MAX_LOG_LINES:
        raise argparse.ArgumentTypeError(f"{text!r} lines: at most {MAX_LOG_LINES}")
    return lines


def cmd_create_superadmin(args: argparse.Namespace) -> int:
    """`shop create-superadmin [--email E] [--password P]`: create that superadmin (default:
    `.env`'s) through the user service's task. 0 when it was created or exists with that
    password; 2, one line per wrong field, when the email or password is empty or not one
    sign-up accepts, or when another address than `.env`'s comes without `--password`; 1 when
    the address is an account of another role, or a superadmin whose password is another
    (either left as it is; said what to do). SettingsError (said one line per setting, exit
    2) when a number in `.env` is not one or the user service refuses its settings;
    RuntimeError when the task fails.
    """
    from shop_local.stack.task import ArgumentsRefused

    empty = [f"--{name}: must not be empty" for name in ("email", "password")
             if getattr(args, name) == ""]
    if empty:
        for line in empty:
            say(line)
        return 2
    env, generated = prepare_env()
    check_settings(env)  # a bad number in `.env`: one line each, before the task runs
    email = args.email or env["SHOP_SUPERADMIN_EMAIL"]
    if args.password is None and email != env["SHOP_SUPERADMIN_EMAIL"]:
        # `.env`'s password belongs to `.env`'s account: another account gets its own.
        say("--password: give the new superadmin's password (only the superadmin named in "
            f"{ENV_FILE.name} takes SHOP_SUPERADMIN_PASSWORD)")
        return 2
    password = args.password or env["SHOP_SUPERADMIN_PASSWORD"]
    try:
        if email == env["SHOP_SUPERADMIN_EMAIL"] and password == env["SHOP_SUPERADMIN_PASSWORD"]:
            if not ensure_superadmin(env, generated):
                return 1  # the account kept another password, as with --password below
        else:  # not `.env`'s account: nothing to say about `.env`
            answer = create_superadmin(email, password)
            if answer.outcome is SuperadminOutcome.OTHER_PASSWORD:
                say(f"superadmin {answer.email} exists, and its password is not the one given; "
                    "it was left unchanged")
                return 1
            say(answer.says)
    except ArgumentsRefused as exc:
        for line in str(exc).splitlines():
            say(line)
        return 2
    except NotASuperadmin as exc:
        say(str(exc))
        return 1
    return 0


def cmd_setup(_args: argparse.Namespace) -> int:
    """`shop setup`: `set_up` with `.env`, then say so; 0. RuntimeError when a step fails."""
    set_up(*prepare_env())
    say("set up")
    return 0


def confirmed(args: argparse.Namespace) -> bool:
    """`--yes`, or a "y" typed at the terminal; never assumed without a terminal."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        return False
    answer = input("shop: remove the shop's databases, roles, broker vhost and users, "
                   "Redis users and keys? [y/N] ")
    return answer.strip().lower() in {"y", "yes"}


def cmd_reset(args: argparse.Namespace, paths: SupervisorPaths | None = None) -> int:
    """`shop reset [--yes]`: after confirmation, stop the stack and remove what `shop setup`
    created on the host's servers (stack.reset); `.env` and var/ stay. 0 when done or when
    there is no `.env` (nothing was set up), 1 when not confirmed or when supervisord is still
    running or does not answer (then nothing is removed). Raises what the servers
    raise (pg8000 DatabaseError, CalledProcessError from `rabbitmqctl`, RedisError). `paths`:
    the supervisord's folders (default: the stack's, under `var/`).
    """
    from shop_local.stack import reset
    from shop_local.stack.backing import ensure_backing_services
    from shop_local.stack.supervisor import NotAnswering

    if not ENV_FILE.exists():
        say(f"no {ENV_FILE.relative_to(ROOT)}: nothing was set up, nothing to remove")
        return 0
    env = read_env(ENV_FILE)
    check_provisioning_settings(env)  # before the stack is stopped and anything removed
    if not confirmed(args):
        say("nothing removed (pass --yes to reset without a question)")
        return 1
    try:
        outcome = stop_stack(supervisor_paths(paths))
    except NotAnswering as exc:
        # Whether the stack still runs is unknown: removing its data could break it.
        say(f"nothing removed: {exc}")
        return 1
    if outcome == STILL_RUNNING:
        # Dropping the databases and users under running services would leave them failing.
        say("nothing removed: the stack is still running")
        return 1
    if outcome == STOPPED:
        say("stopped the stack")
    ensure_backing_services(say)
    reset.remove_provisioned(env, pg_admin_url(env), redis_admin_url(env), say)
    say("reset; .env and var/ are kept (`make clean` removes var/), `shop up` sets up again")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """`shop serve DIR ...`: runtime.serve.run."""
    from shop_local.runtime import serve

    return serve.run(args)


def cmd_deploy(args: argparse.Namespace) -> int:
    """`shop deploy ...`: deploy.command.run."""
    from shop_local.deploy import command

    return command.run(args)


def build_parser() -> argparse.ArgumentParser:
    """The `shop` argument parser: each subcommand sets `run`, the function that carries it out.
    """
    parser = argparse.ArgumentParser(prog="shop", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="set up and start the whole stack")
    up.add_argument("--detach", action="store_true", help="run in the background")
    up.set_defaults(run=cmd_up)
    commands.add_parser("down", help="stop the stack").set_defaults(run=cmd_down)
    commands.add_parser("status", help="health of every component").set_defaults(run=cmd_status)
    commands.add_parser(
        "setup", help="start the backing services, provision, migrate and seed; start no "
        "shop process").set_defaults(
        run=cmd_setup)
    reset_parser = commands.add_parser(
        "reset", help="stop the stack and remove what `shop setup` created")
    reset_parser.add_argument("--yes", action="store_true", help="do not ask first")
    reset_parser.set_defaults(run=cmd_reset)

    logs = commands.add_parser("logs", help="show a service's log")
    logs.add_argument("service")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-n", "--lines", type=line_count, default=50,
                      help="how many of the last lines (0 or more; default 50)")
    logs.set_defaults(run=cmd_logs)

    admin = commands.add_parser("create-superadmin", help="create the superadmin")
    admin.add_argument("--email")
    admin.add_argument("--password")
    admin.set_defaults(run=cmd_create_superadmin)
    serve = commands.add_parser(
        "serve", help="run any Chalice project locally: API Gateway + Lambda, autoreload")
    serve_args.add_arguments(serve)
    serve.set_defaults(run=cmd_serve)
    mail.register(commands)
    deploy_arguments.add_parser(commands).set_defaults(run=cmd_deploy)
    return parser


def stdout_reader_gone() -> bool:
    """Whether standard output is a pipe whose reader has gone (`shop … | head`): Linux
    reports POLLERR on such a pipe's write end, and never on a terminal or a file.
    """
    poller = select.poll()
    poller.register(sys.stdout.fileno(), 0)  # POLLERR and POLLHUP are reported anyway
    return any(events & select.POLLERR for _, events in poller.poll(0))


def main(argv: list[str] | None = None) -> int:
    """Run `shop` with `argv` (default: the command line); the subcommand's exit status
    (128 + N for a child killed by signal N, as a shell reports it), 1 with
    `shop: error: …` when it raised a RuntimeError, or EXIT_BAD_SETTINGS (2) with
    `shop: <VARIABLE>: …`, one line per bad setting, when it raised a SettingsError. A
    reader of the output that went away (`shop … | head`) ends it quietly with 128 +
    SIGPIPE; a broken pipe of any other kind (a socket) is raised.
    """
    args = build_parser().parse_args(argv)
    try:
        try:
            status = int(args.run(args))
        except RuntimeError as exc:
            say(f"error: {exc}")
            return 1
        except SettingsError as exc:
            for line in str(exc).splitlines():
                say(line)
            return EXIT_BAD_SETTINGS
    except BrokenPipeError:
        if not stdout_reader_gone():
            raise
        # Python's advice for this case: point stdout at /dev/null so that the flush at
        # exit does not raise again (https://docs.python.org/3/library/signal.html#note-on-sigpipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 128 + signal.SIGPIPE
    return 128 - status if status < 0 else status


if __name__ == "__main__":
    sys.exit(main())
