"""The Amazon MQ event-source emulator: Lambda's RabbitMQ trigger, played locally.

Chalice has no RabbitMQ trigger and `chalice local` runs no triggered function, so
this process does what the cloud's event-source mappings do: for each mapping of one
function app in the mapping file, a consumer that batches messages into the exact
Amazon MQ Lambda event and invokes the function through this process's local Lambda
service (each function in its own execution environments, with the environment of
its Chalice configuration), as Lambda's poller invokes it in AWS.

Run as `python -m shop_local.runtime.mq_emulator [--app communication]`. This process
owns the app's functions: with `SHOP_LAMBDA_REGISTRY_DIR` set, they are also
reachable through the stack's Invoke API.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from shop_common.config import SERVICES, SettingsError, gather_environment
from shop_common.logs import configure_logging
from shop_common.messaging import quiet_pika
from shop_common.metrics import announce_process
from shop_local.mappings import (
    LOCAL_PROFILE,
    MappingFile,
    MappingFileError,
    load_mapping_file,
)
from shop_local.paths import FUNCTIONS, MAPPINGS_FILE
from shop_local.runtime.catalog import AppCatalog, CatalogError, FunctionSpec, load_catalog
from shop_local.runtime.lambda_limits import INIT_LIMIT_SECONDS
from shop_local.runtime.lambda_service import LambdaService
from shop_local.runtime.lambda_settings import LambdaSettingsError
from shop_local.runtime.mq_consumer import BatchConsumer, Invoke, Target
from shop_local.runtime.mq_status import status_file_for, write_status
from shop_local.runtime.rmq_event import broker_arn
from shop_local.runtime.service_check import ServiceRefused, check_service

log = logging.getLogger("shop.mq_emulator")

DEFAULT_AMQP_URL = "amqp://127.0.0.1:5672/shop"  # no user: SHOP_<APP>_AMQP_URL must name one
STATUS_INTERVAL_SECONDS = 1.0


class EmulatorError(Exception):
    """The emulator cannot start; the message says why."""


def mapped_functions(catalog: AppCatalog, functions: list[str]) -> dict[str, FunctionSpec]:
    """The deployed function of each mapped name (`@app.lambda_function(name=...)`)."""
    found = {}
    for name in functions:
        spec = catalog.by_resource_name(name)
        if spec is None:
            raise EmulatorError(f"{catalog.app_name} has no @app.lambda_function named {name!r}")
        found[name] = spec
    return found


class ServiceThread:
    """The Lambda service on an event loop of its own; consumers invoke it from their threads."""

    def __init__(self, catalog: AppCatalog) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="lambda-service",
                                        daemon=True)
        self._thread.start()
        self.service = LambdaService([catalog])
        asyncio.run_coroutine_threadsafe(self.service.start(), self._loop).result(60)

    def invoker(self, spec: FunctionSpec) -> Invoke:
        """Run `spec` on an event; raise when it fails, so that the batch is requeued."""
        limit = spec.timeout_seconds + INIT_LIMIT_SECONDS + 30

        def invoke(event: dict[str, Any]) -> object:
            result = self.service.invoke_threadsafe(spec.name, json.dumps(event).encode(),
                                                    timeout=limit)
            if result.function_error:
                raise FunctionFailed(result.payload[:4000].decode(errors="replace"))
            return result.payload

        return invoke

    def close(self) -> None:
        """Close the Lambda service (its environments) and stop its loop and thread.

        Waits up to 60 s for the close (TimeoutError past it) and 10 s for the thread.
        """
        asyncio.run_coroutine_threadsafe(self.service.close(), self._loop).result(60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class FunctionFailed(RuntimeError):
    """The function answered Lambda's error document (the message); the batch is requeued."""


def write_consumers_status(path: Path, app: str, consumers: list[BatchConsumer]) -> None:
    """Replace the status file `shop status` and the tests read (mq_status.write_status)."""
    write_status(path, app, [c.status().as_dict() for c in consumers])


def choose_app(mappings: MappingFile, requested: str | None) -> str:
    """The app whose mappings to play: `requested`, or the file's only app when None.

    Raises EmulatorError when `requested` has no mapping, or when none is requested and
    the file maps several apps.
    """
    apps = mappings.apps()
    if requested:
        if requested not in apps:
            raise EmulatorError(f"the mapping file has no mapping for app {requested!r}")
        return requested
    if len(apps) != 1:
        raise EmulatorError(f"the mapping file maps several apps ({', '.join(apps)}); pick --app")
    return apps[0]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The emulator's command line (see `--help`), with its path options made absolute.

    argparse exits 2 on bad arguments.
    """
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
    # Absolute: the paths are read again from other working directories.
    for name in ("mappings", "functions_dir", "status_file"):
        if getattr(args, name) is not None:
            setattr(args, name, getattr(args, name).resolve())
    return args


def main(argv: list[str] | None = None) -> int:
    """Play the selected mappings until SIGTERM or SIGINT; return the exit code.

    Writes the status file every second. 0 after a clean stop, 2 (reason on stderr) for a
    bad mapping file, app, setting or function catalog.
    """
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
        project = args.functions_dir / app
        if not (project / "app.py").is_file():
            raise EmulatorError(f"no Chalice app at {project}")
        catalog = load_catalog(project, args.stage)
        functions = mapped_functions(catalog, sorted({m.function for m in selected}))
        if app in SERVICES:
            # A bad setting stops the process now, not every invocation.
            configure_logging(app, check_service(app).log_level)
            announce_process(app)  # counted as a live instance from the start, as hosts are
        else:
            configure_logging(app)
        quiet_pika()
        lambda_service = ServiceThread(catalog)
    except (MappingFileError, EmulatorError, SettingsError, CatalogError,
            LambdaSettingsError, ServiceRefused) as exc:
        print(f"mq-emulator: refusing to start: {exc}", file=sys.stderr)
        return 2

    arn = broker_arn(mappings.broker.name)
    specs = {spec.name: spec for spec in mappings.queue_specs()}
    stop = threading.Event()
    consumers = [
        BatchConsumer(
            mapping,
            Target(amqp_url, mappings.broker.vhost, arn, specs[mapping.queue]),
            lambda_service.invoker(functions[mapping.function]),
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
        write_consumers_status(status_path, app, consumers)
        stop.wait(STATUS_INTERVAL_SECONDS)
    for thread in threads:
        thread.join(timeout=30)
    write_consumers_status(status_path, app, consumers)
    lambda_service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
