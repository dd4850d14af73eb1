"""`shop serve DIR`: any Chalice project run locally as in AWS, reloaded when its code changes.

    shop serve path/to/project [--port 8000] [--stage dev] [--no-autoreload]
    python -m shop_local.runtime.serve path/to/project ...

The project's REST API is served by the local API Gateway on 127.0.0.1:PORT, each of its
functions runs in execution environments of the local Lambda service, its schedules
fire, and the Lambda Invoke API answers on 127.0.0.1:LAMBDA_PORT (3001, as
`sam local start-lambda`; 0 picks a free port), so
`boto3.client("lambda", endpoint_url=...).invoke(FunctionName=...)` runs its functions.
With autoreload (the default) `watchfiles` watches the project's `.py` files and
`.chalice/config.json`; a change rebuilds the catalog (routes, functions, settings) and
retires every environment, so the next request cold-starts on the new code. A change
that does not import keeps the previous version serving and says why.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
from pathlib import Path

import uvloop
from watchfiles import Change, awatch

from shop_local.runtime.app_runtime import ProjectRuntime, Refused, load_project
from shop_local.runtime.http_server import bound_port, cannot_listen, listen
from shop_local.runtime.invoke_api import InvokeApi, serve_in_background
from shop_local.runtime.serve_args import add_arguments

EXIT_REFUSED = 2
EXIT_PORT = 1
IGNORED_DIRS = {".git", "__pycache__", "vendor", ".chalice/deployments", "node_modules"}


def say(message: str) -> None:
    """Print `shop serve: <message>` on stdout, flushed at once."""
    print(f"shop serve: {message}", flush=True)


def is_source(change: Change, path: str) -> bool:
    """Whether a changed file is part of the app: Python sources and the Chalice config."""
    parts = Path(path).parts
    if any(part in IGNORED_DIRS or part.startswith(".venv") for part in parts):
        return False
    return path.endswith(".py") or path.endswith(os.path.join(".chalice", "config.json"))


async def watch_and_reload(runtime: ProjectRuntime, project_dir: Path, stage: str,
                           gateway_responses: Path | None, stop: asyncio.Event) -> None:
    """Reload `runtime` after each change of the project's sources, until `stop` is set.

    Changes are debounced by 300 ms. A change that does not load is reported and the
    previous code keeps serving; nothing is raised for it.
    """
    async for changes in awatch(project_dir, watch_filter=is_source, stop_event=stop,
                                debounce=300, step=50):
        names = sorted({str(Path(path).relative_to(project_dir)) for _, path in changes})
        say(f"{', '.join(names)} changed; reloading")
        try:
            config = await asyncio.to_thread(load_project, project_dir, stage,
                                             gateway_responses)
        except Refused as exc:
            say(f"reload failed, still serving the previous code:\n{exc}")
            continue
        await runtime.reload(config)
        say("reloaded: the next invocation of each function cold-starts on the new code")


async def serve_project(project_dir: Path, stage: str, host: str, port: int,
                        lambda_port: int, autoreload: bool,
                        gateway_responses: Path | None) -> int:
    """Serve the project (see the module doc) until SIGINT or SIGTERM; return the exit code.

    0 after a clean stop, EXIT_PORT (1, said with the option to change) when the API's or
    the Invoke API's port cannot be bound: both are bound before anything starts.
    Raises Refused when the project cannot be loaded.
    """
    config = await asyncio.to_thread(load_project, project_dir, stage, gateway_responses)
    bound: list[list[socket.socket]] = []
    for wanted, option in ((port, "--port"), (lambda_port, "--lambda-port")):
        try:
            bound.append(listen(host, wanted))
        except OSError as exc:
            for sock in (s for sockets in bound for s in sockets):
                sock.close()
            say(f"{cannot_listen(exc, host, wanted, option)}; {option} 0 picks a free one")
            return EXIT_PORT
    api_sockets, invoke_sockets = bound
    runtime = ProjectRuntime(config)
    await runtime.start()
    invoke_server, invoke_task, invoke_port = await serve_in_background(
        InvokeApi(runtime), host, lambda_port, config.gateway.limits, sockets=invoke_sockets)
    catalog = config.catalog
    say(f"{catalog.app_name} (stage {stage}): {len(catalog.functions)} function(s): "
        + ", ".join(f.name for f in catalog.functions))
    for schedule in catalog.schedules:
        say(f"schedule {schedule.expression} -> {schedule.function}")
    say(f"Lambda Invoke API: http://{host}:{invoke_port}")
    if runtime.has_api and config.routes is not None:
        say(f"API Gateway (REST API, stage {config.api_identity.stage}): "
            f"http://{host}:{bound_port(api_sockets)}")
        for resource, methods in sorted(config.routes.resources().items()):
            say(f"  {','.join(methods):>12} {resource}")
    stop = asyncio.Event()
    watcher = (asyncio.ensure_future(
        watch_and_reload(runtime, project_dir, stage, gateway_responses, stop))
        if autoreload else None)
    try:
        await runtime.serve(api_sockets, host, "shop serve")
        return 0
    finally:
        stop.set()
        invoke_server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await invoke_task
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await runtime.close()


def run(args: argparse.Namespace) -> int:
    """Serve the project `args` names (as `serve_args` defines them); return the exit code.

    2 (`EXIT_REFUSED`, the reason on stdout) for a project that cannot be loaded, 1
    (`EXIT_PORT`) for a port that cannot be bound.
    """
    project = args.project.resolve()
    try:
        return uvloop.run(serve_project(project, args.stage, args.host, args.port,
                                        args.lambda_port, args.autoreload,
                                        args.gateway_responses))
    except Refused as exc:
        say(f"cannot serve {project}: {exc}")
        return EXIT_REFUSED


def main(argv: list[str] | None = None) -> int:
    """`shop serve` / `python -m shop_local.runtime.serve`: parse `argv`, then `run`."""
    parser = argparse.ArgumentParser(prog="shop serve", description=(__doc__ or "").split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
