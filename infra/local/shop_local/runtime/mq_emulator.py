"""The Amazon MQ event-source emulator: Lambda's RabbitMQ trigger, played locally.

Chalice has no RabbitMQ trigger and `chalice local` runs no triggered function, so
this process does what the cloud's event-source mappings do: for each mapping of one
function app in the mapping file, a consumer that batches messages into the exact
Amazon MQ Lambda event and invokes the function in-process, with the environment of
that function's Chalice configuration.

Run as `python -m shop_local.runtime.mq_emulator [--app communication]`. One process per app,
because Chalice imports every app as `app` and `chalicelib`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from chalice.cli.factory import CLIFactory
from chalice.config import Config
from chalice.local import LambdaContext

from shop_common.config import SERVICES, SettingsError, gather_environment
from shop_common.logs import configure_logging
from shop_common.messaging import quiet_pika
from shop_common.metrics import announce_process
from shop_common.runtime import get_runtime
from shop_local.mappings import (
    LOCAL_PROFILE,
    MappingFile,
    MappingFileError,
    load_mapping_file,
)
from shop_local.paths import FUNCTIONS, MAPPINGS_FILE, RUN
from shop_local.runtime.mq_consumer import BatchConsumer, Target
from shop_local.runtime.rmq_event import broker_arn

log = logging.getLogger("shop.mq_emulator")

DEFAULT_AMQP_URL = "amqp://127.0.0.1:5672/shop"  # no user: SHOP_<APP>_AMQP_URL must name one
STATUS_INTERVAL_SECONDS = 1.0


class EmulatorError(Exception):
    """The emulator cannot start; the message says why."""


@dataclass(frozen=True)
class LoadedFunction:
    name: str
    lambda_name: str  # as Chalice names it when deployed: <app>-<stage>-<function>
    handler: Callable[[dict[str, Any], Any], Any]
    memory_mb: int
    timeout_seconds: int

    def invoke(self, event: dict[str, Any]) -> object:
        context = LambdaContext(self.lambda_name, self.memory_mb, self.timeout_seconds * 1000)
        return self.handler(event, context)


def status_file_for(app: str) -> Path:
    return RUN / f"mq-emulator-{app}.json"


def function_environment(config: Config, stage: str, functions: list[str]) -> dict[str, str]:
    """The environment of each function's Chalice configuration, which must agree in one process."""
    merged: dict[str, str] = {}
    for name in functions:
        for key, value in config.scope(stage, name).environment_variables.items():
            if merged.setdefault(key, value) != value:
                raise EmulatorError(
                    f"functions disagree on {key}; run them in separate emulators (--function)"
                )
    return merged


def load_functions(app: str, functions: list[str], stage: str,
                   functions_dir: Path) -> dict[str, LoadedFunction]:
    project_dir = functions_dir / app
    if not (project_dir / "app.py").is_file():
        raise EmulatorError(f"no Chalice app at {project_dir}")
    os.chdir(project_dir)
    factory = CLIFactory(project_dir=str(project_dir), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    chalice_app = factory.load_chalice_app(function_environment(config, stage, functions))
    module = sys.modules["app"]
    registered = {f.name: f for f in chalice_app.pure_lambda_functions}
    loaded = {}
    for name in functions:
        if name not in registered:
            raise EmulatorError(f"{app} has no @app.lambda_function named {name!r}")
        scoped = config.scope(stage, name)
        loaded[name] = LoadedFunction(
            name=name,
            lambda_name=f"{chalice_app.app_name}-{stage}-{name}",
            handler=getattr(module, registered[name].handler_string.rsplit(".", 1)[-1]),
            memory_mb=int(scoped.lambda_memory_size or 128),
            timeout_seconds=int(scoped.lambda_timeout or 60),
        )
    return loaded


def write_status(path: Path, app: str, consumers: list[BatchConsumer]) -> None:
    """Atomically replace the status file `shop status` and the tests read."""
    report = {
        "app": app,
        "pid": os.getpid(),
        "updated_at": time.time(),
        "mappings": [c.status().as_dict() for c in consumers],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(report))
    temporary.replace(path)


def choose_app(mappings: MappingFile, requested: str | None) -> str:
    apps = mappings.apps()
    if requested:
        if requested not in apps:
            raise EmulatorError(f"the mapping file has no mapping for app {requested!r}")
        return requested
    if len(apps) != 1:
        raise EmulatorError(f"the mapping file maps several apps ({', '.join(apps)}); pick --app")
    return apps[0]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mappings", type=Path, default=MAPPINGS_FILE)
    parser.add_argument("--profile", default=LOCAL_PROFILE)
    parser.add_argument("--app", help="the function app (default: the file's only app)")
    parser.add_argument("--function", action="append", help="only these functions' mappings")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--functions-dir", type=Path, default=FUNCTIONS)
    parser.add_argument("--amqp-url", help="default: SHOP_AMQP_URL")
    parser.add_argument("--status-file", type=Path)
    args = parser.parse_args(argv)
    # Resolved now: loading the app changes the working directory to the app's folder.
    for name in ("mappings", "functions_dir", "status_file"):
        if getattr(args, name) is not None:
            setattr(args, name, getattr(args, name).resolve())
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        probe = load_mapping_file(args.mappings, args.profile)
        app = choose_app(probe, args.app)
        amqp_url = args.amqp_url or gather_environment(app).get("amqp_url", DEFAULT_AMQP_URL)
        mappings = load_mapping_file(args.mappings, args.profile, amqp_url)
        selected = [m for m in mappings.for_app(app)
                    if not args.function or m.function in args.function]
        if not selected:
            raise EmulatorError(f"no mapping selected for {app} ({args.function})")
        functions = load_functions(app, sorted({m.function for m in selected}), args.stage,
                                   args.functions_dir)
        if app in SERVICES:
            get_runtime(app)  # a bad setting stops the process now, not every invocation
            announce_process(app)  # counted as a live instance from the start, as hosts are
        else:
            configure_logging(app)
        quiet_pika()
    except (MappingFileError, EmulatorError, SettingsError) as exc:
        print(f"mq-emulator: refusing to start: {exc}", file=sys.stderr)
        return 2

    arn = broker_arn(mappings.broker.name)
    specs = {spec.name: spec for spec in mappings.queue_specs()}
    stop = threading.Event()
    consumers = [
        BatchConsumer(
            mapping,
            Target(amqp_url, mappings.broker.vhost, arn, specs[mapping.queue]),
            functions[mapping.function].invoke,
            mappings.emulator,
            stop,
        )
        for mapping in selected
    ]

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    threads = [
        threading.Thread(target=c.run, name=f"mapping-{c.mapping.function}", daemon=True)
        for c in consumers
    ]
    for thread in threads:
        thread.start()
    status_path = args.status_file or status_file_for(app)
    print(f"mq-emulator: {app}: " + ", ".join(
        f"{m.queue}::{mappings.broker.vhost} -> {m.function}" for m in selected), flush=True)
    while not stop.is_set():
        write_status(status_path, app, consumers)
        stop.wait(STATUS_INTERVAL_SECONDS)
    for thread in threads:
        thread.join(timeout=30)
    write_status(status_path, app, consumers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
