"""`shop deploy --verify`'s last check: what was deployed runs.

Each deployed function's package is pulled back from the target (`GetFunction` ->
`Code.Location`), unpacked, and cold-started in a fresh execution environment of the
local Lambda service with the deployed handler, memory size, timeout and environment
variables (and nothing of the local `.env`: only `PATH`, the emulated cloud's endpoint
and placeholder credentials, as LocalStack gives its functions). Then a smoke event:

- the REST API's function gets `GET /health` as an API Gateway proxy event built from
  the deployed API (its resource, stage, binary media types): a proxy response with
  200 or 503 proves it imported and answered (503: a dependency of the deployed
  settings is not reachable from here); anything else is a difference;
- a scheduled function gets its rule's Scheduled Event, a function of an Amazon MQ
  mapping an Amazon MQ event with no messages: returning is fine, and so is raising
  an error of its own (it imported and ran); an init failure, a crash or a timeout is
  a difference;
- any other function is only cold-started (its init must succeed).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from shop_local.runtime.catalog import AppCatalog, FunctionSpec
from shop_local.runtime.gateway.proxy_event import ApiIdentity, HttpRequest, build_proxy_event
from shop_local.runtime.lambda_service import LambdaService
from shop_local.runtime.lambda_settings import LambdaSettings
from shop_local.runtime.rmq_event import amazon_mq_event
from shop_local.runtime.schedules import scheduled_event

DOWNLOAD_TIMEOUT_SECONDS = 120
# Errors of the platform, not of the function's own code: it did not start or answer.
PLATFORM_ERRORS = ("Runtime.", "Sandbox.")
HEALTHY_STATUSES = (200, 503)
COLD_STARTS_AT_ONCE = 4


@dataclass(frozen=True)
class SmokeEvent:
    """What a deployed function is sent: `kind` names it in the report."""

    kind: str
    payload: bytes | None  # None: cold start only
    is_http: bool = False


@dataclass(frozen=True)
class ColdStart:
    """The outcome for one function: `ok` False is a difference; `line` says what happened."""

    function: str
    ok: bool
    line: str


def http_health_event(api_id: str, stage: str, binary_types: list[str]) -> bytes:
    """A REST API proxy event (version 1.0, as API Gateway sends it to a Lambda proxy
    integration: https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-
    proxy-integrations.html) for `GET /health` on API `api_id` at `stage`, as JSON bytes;
    `binary_types` are the API's binaryMediaTypes.
    """
    request = HttpRequest(method="GET", raw_path="/health", query_string="",
                          headers=[("Host", f"{api_id}.execute-api.local"),
                                   ("User-Agent", "shop-deploy-verify")],
                          body=b"", client_ip="127.0.0.1", server_port=443, scheme="https")
    event = build_proxy_event(request, "/health", None, ApiIdentity(api_id, stage),
                              tuple(binary_types))
    return json.dumps(event).encode()


class PackageUnavailable(RuntimeError):
    """The deployed package cannot be had, or what was had is not what is deployed."""


def code_sha256(data: bytes) -> str:
    """Lambda's `CodeSha256`: the base64 of the package's SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def fetch_package(described: dict[str, Any], local_copy: Path | None) -> tuple[bytes, str]:
    """The deployed package's bytes and where they came from.

    From `Code.Location` when it answers; moto's server hands out a placeholder S3 URL
    it does not serve, and then the deploy's own artifact stands in, accepted only when
    its SHA-256 is the deployed `CodeSha256`. Raises PackageUnavailable.
    """
    location = str(described.get("Code", {}).get("Location", ""))
    expected = described.get("Configuration", {}).get("CodeSha256")
    try:
        response = requests.get(location, timeout=DOWNLOAD_TIMEOUT_SECONDS)
        response.raise_for_status()
        data, source = response.content, "Code.Location"
    except requests.RequestException as exc:
        if local_copy is None or not local_copy.is_file():
            raise PackageUnavailable(f"Code.Location {location} unreachable ({type(exc).__name__})"
                                     " and no local copy of the package") from None
        data, source = local_copy.read_bytes(), f"the deploy's artifact {local_copy.name}"
    if expected and code_sha256(data) != expected:
        raise PackageUnavailable(f"the package from {source} is not the deployed one "
                                 f"(CodeSha256 {code_sha256(data)} != {expected})")
    return data, source


def unpack(data: bytes, into: Path) -> Path:
    """Extract the zip package `data` into the folder `into` and return it. zipfile.BadZipFile
    when `data` is not a zip.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        package.extractall(into)
    return into


def unpacked(data: bytes, packages_dir: Path) -> Path:
    """The zip package `data` extracted under `packages_dir`, once per content.

    The folder is named by the package's SHA-256, so functions sharing a package (an app's
    REST API function and its scheduled ones) share one folder, and a later verify of an
    unchanged package reuses it: a package is thousands of files. Extraction goes to a
    private folder first and is renamed into place, so a half-extracted package is never
    used. zipfile.BadZipFile when `data` is not a zip.
    """
    target = packages_dir / hashlib.sha256(data).hexdigest()[:32]
    if target.is_dir():
        return target
    packages_dir.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=packages_dir))
    try:
        unpack(data, partial)
        partial.rename(target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def prune_packages(packages_dir: Path, keep: set[Path]) -> None:
    """Remove the extracted packages under `packages_dir` that are not in `keep`."""
    if not packages_dir.is_dir():
        return
    for folder in packages_dir.iterdir():
        if folder not in keep:
            shutil.rmtree(folder, ignore_errors=True)


def function_environment(endpoint_url: str) -> dict[str, str]:
    """What a deployed function's environment holds besides its own variables."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
            "HOME": tempfile.gettempdir(), "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


def judge(name: str, kind: str, result_payload: bytes, function_error: str | None,
          is_http: bool, init_ms: float | None) -> ColdStart:
    """Whether one smoke invocation proves the function runs, with its report line. A Lambda
    platform error (`Runtime.*`, `Sandbox.*`: init failure, crash, timeout) or any error of
    an HTTP function fails; a scheduled or MQ function that raised its own exception passes
    (it imported and ran). An HTTP function passes only with a proxy response of 200 or 503
    (a 503 problem: it answered, a dependency is down). `init_ms` is the Init Duration in
    milliseconds, None when not cold.
    """
    cold = f"init {init_ms:.0f} ms" if init_ms is not None else "init ?"
    if function_error:
        try:
            error = json.loads(result_payload)
        except ValueError:
            error = {}
        error_type = str(error.get("errorType", "")) if isinstance(error, dict) else ""
        message = str(error.get("errorMessage", ""))[:200] if isinstance(error, dict) else ""
        if error_type.startswith(PLATFORM_ERRORS) or is_http or not error_type:
            return ColdStart(name, False, f"{name}: {kind} -> {error_type}: {message}")
        return ColdStart(name, True, f"{name}  {cold}  {kind} -> raised {error_type} "
                                     f"(imported and ran; {message})")
    if is_http:
        try:
            status = int(json.loads(result_payload)["statusCode"])
        except (ValueError, KeyError, TypeError):
            return ColdStart(name, False, f"{name}: {kind} -> not a proxy response: "
                                          f"{result_payload[:200]!r}")
        if status not in HEALTHY_STATUSES:
            return ColdStart(name, False, f"{name}: {kind} -> {status}")
        return ColdStart(name, True, f"{name}  {cold}  {kind} -> {status}")
    return ColdStart(name, True, f"{name}  {cold}  {kind} -> answered")


async def _run(specs: list[FunctionSpec], events: dict[str, SmokeEvent],
               environment: dict[str, str], log_dir: Path) -> list[ColdStart]:
    catalog = AppCatalog("deployed", "verify", str(log_dir), specs)
    service = LambdaService([catalog], LambdaSettings(log_dir=log_dir),
                            environment=environment, echo=None)
    await service.start()
    # Each function cold-starts in its own environment, so they may start side by side;
    # a few at a time keeps a small machine responsive.
    at_once = asyncio.Semaphore(COLD_STARTS_AT_ONCE)

    async def cold_start(spec: FunctionSpec) -> ColdStart:
        async with at_once:
            smoke = events[spec.name]
            if smoke.payload is None:
                failure = await service.start_environment(spec.name)
                init = next((e.init_duration_ms for e in service.environments(spec.name)), None)
                return ColdStart(spec.name, failure is None, (
                    f"{spec.name}  init {init or 0:.0f} ms  cold start only -> started"
                    if failure is None else f"{spec.name}: cannot start: {failure}"))
            result = await service.invoke(spec.name, smoke.payload)
            init_ms = next((e.init_duration_ms for e in service.environments(spec.name)), None)
            return judge(spec.name, smoke.kind, result.payload, result.function_error,
                         smoke.is_http, init_ms)

    try:
        return list(await asyncio.gather(*(cold_start(spec) for spec in specs)))
    finally:
        await service.close()


def cold_start_all(lam: Any, functions: dict[str, SmokeEvent], endpoint_url: str,
                   work_dir: Path, local_copies: dict[str, Path] | None = None,
                   say: Callable[[str], None] | None = None,
                   packages_dir: Path | None = None) -> list[ColdStart]:
    """Pull, unpack and cold-start each of `functions` (name -> its smoke event); one
    ColdStart per function, in name order.

    `local_copies` maps a function to the package the deploy uploaded (see
    `fetch_package`). Packages are extracted under `packages_dir` (default
    `<work_dir>/code`) by content (see `unpacked`); those no function uses now are removed.
    """
    packages_dir = packages_dir or work_dir / "code"
    in_use: set[Path] = set()
    specs: list[FunctionSpec] = []
    outcomes: list[ColdStart] = []
    sources: dict[str, str] = {}
    for name in sorted(functions):
        try:
            described = lam.get_function(FunctionName=name)
            config = described["Configuration"]
            data, source = fetch_package(described, (local_copies or {}).get(name))
            code_dir = unpacked(data, packages_dir)
            in_use.add(code_dir)
            sources[name] = source
        except (PackageUnavailable, zipfile.BadZipFile, KeyError) as exc:
            outcomes.append(ColdStart(name, False, f"{name}: package not retrievable: {exc}"))
            continue
        specs.append(FunctionSpec(
            name=name, handler=config["Handler"], code_dir=str(code_dir),
            environment=dict(config.get("Environment", {}).get("Variables", {})),
            memory_mb=int(config.get("MemorySize", 128)),
            timeout_seconds=int(config.get("Timeout", 3)),
            runtime=str(config.get("Runtime", "")) or FunctionSpec.runtime,
        ))
        if say:
            say(f"cold-starting {name} (package from {source})")
    prune_packages(packages_dir, in_use)
    if specs:
        started = asyncio.run(_run(specs, functions, function_environment(endpoint_url),
                                   work_dir / "logs"))
        outcomes += [ColdStart(o.function, o.ok, f"{o.line}  [package: {sources[o.function]}]")
                     for o in started]
    return outcomes


def smoke_events(apps: list[Any], mq_functions: set[str], api_ids: dict[str, str],
                 binary_types: dict[str, list[str]]) -> dict[str, SmokeEvent]:
    """The smoke event of every declared function (see the module doc).

    `apps` are the declared apps (`deploy.declared.DeclaredApp`); `api_ids` maps an app's
    API function to its deployed REST API id, `binary_types` to its binary media types.
    """
    events: dict[str, SmokeEvent] = {}
    for app in apps:
        rules = {schedule.function: schedule.rule for schedule in app.schedules}
        for function in app.functions:
            name = function.name
            if app.api is not None and name == app.api.function and name in api_ids:
                events[name] = SmokeEvent("GET /health", http_health_event(
                    api_ids[name], app.api.stage, binary_types.get(name, [])), is_http=True)
            elif name in rules:
                events[name] = SmokeEvent("Scheduled Event",
                                          json.dumps(scheduled_event(rules[name])).encode())
            elif name in mq_functions:
                events[name] = SmokeEvent("Amazon MQ event (no messages)", json.dumps(
                    amazon_mq_event("arn:aws:mq:local", "none", "none", [])).encode())
            else:
                events[name] = SmokeEvent("cold start", None)
    return events
