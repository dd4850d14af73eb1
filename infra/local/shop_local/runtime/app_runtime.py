"""One Chalice project running locally: its REST API behind the gateway, its functions in the
Lambda service, its schedules firing; and how to swap in a new version of its code.

Used by the shop's service processes (`runtime.host`) and by `shop serve` (`runtime.serve`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from shop_common.setting_values import SettingsError
from shop_local.runtime.catalog import AppCatalog, CatalogError, load_catalog
from shop_local.runtime.gateway.app import RestApiGateway
from shop_local.runtime.gateway.gateway_responses import GatewayResponses, GatewayResponsesError
from shop_local.runtime.gateway.proxy_event import ApiIdentity
from shop_local.runtime.gateway.routes import RouteTable, RouteTableError
from shop_local.runtime.gateway.settings import GatewaySettings, GatewaySettingsError
from shop_local.runtime.http_server import ErrorRenderer, bound_port, build_server, plain_error
from shop_local.runtime.invocation import InvocationResult, InvocationType
from shop_local.runtime.lambda_service import LambdaService
from shop_local.runtime.lambda_settings import LambdaSettings, LambdaSettingsError
from shop_local.runtime.schedules import EventBridgeSchedules, override_seconds

log = logging.getLogger("shop.runtime")


class Refused(Exception):
    """A setting, a key, or the project itself is unusable; the message says which."""


@dataclass(frozen=True)
class ProjectConfig:
    """Everything needed to run one Chalice project, checked before anything starts."""

    catalog: AppCatalog
    routes: RouteTable | None
    gateway: GatewaySettings
    lambda_settings: LambdaSettings
    responses: GatewayResponses
    # SHOP_LOCAL_SCHEDULE_SECONDS: every schedule fires this often instead (None: as written).
    schedule_seconds: float | None = None

    @property
    def api_identity(self) -> ApiIdentity:
        stage = self.catalog.rest_api.stage if self.catalog.rest_api else self.catalog.stage
        return ApiIdentity.for_app(self.catalog.app_name, stage)


def load_project(project_dir: Path, stage: str,
                 gateway_responses: Path | None = None) -> ProjectConfig:
    """The catalog, route table and settings of the project in `project_dir`.

    Raises Refused naming the bad variable, file or import error.
    """
    try:
        gateway = GatewaySettings.from_environ()
        lambda_settings = LambdaSettings.from_environ()
        schedule_seconds = override_seconds()
        responses = (GatewayResponses.load(gateway_responses) if gateway_responses
                     else GatewayResponses())
        catalog = load_catalog(project_dir, stage)
        routes = RouteTable(catalog.rest_api.swagger) if catalog.rest_api else None
    except (GatewaySettingsError, LambdaSettingsError, SettingsError, GatewayResponsesError,
            CatalogError, RouteTableError) as exc:
        raise Refused(str(exc)) from None
    return ProjectConfig(catalog, routes, gateway, lambda_settings, responses, schedule_seconds)


class ProjectRuntime:
    """A project's Lambda service, schedules and gateway; `reload` swaps in new code.

    It is itself an `Invoker` and a `Submitter` (its current Lambda service's), so what holds it
    (the gateway, an Invoke API) keeps working across reloads.
    """

    def __init__(self, config: ProjectConfig, access_log: TextIO | None = None,
                 render_error: ErrorRenderer = plain_error) -> None:
        self.config = config
        self.render_error = render_error
        self.service = LambdaService([config.catalog], config.lambda_settings)
        self.schedules = EventBridgeSchedules([config.catalog], self.service,
                                              config.schedule_seconds,
                                              use_environment_override=False)
        self.gateway = RestApiGateway(
            config.routes or RouteTable({}), self, config.api_identity,
            settings=config.gateway, responses=config.responses, access_log=access_log,
            render_error=render_error)
        self._retiring: set[asyncio.Task[None]] = set()

    async def invoke(self, function_name: str, payload: bytes,
                     invocation_type: InvocationType = "RequestResponse",
                     **options: Any) -> InvocationResult:
        """`LambdaService.invoke` of the current code (see there)."""
        return await self.service.invoke(function_name, payload, invocation_type, **options)

    def submit(self, function_name: str,
               payload: bytes) -> asyncio.Future[InvocationResult]:
        """`LambdaService.submit` of the current code (see there)."""
        return self.service.submit(function_name, payload)

    @property
    def has_api(self) -> bool:
        return self.config.routes is not None

    async def start(self) -> None:
        """Start the Lambda service, then the schedules; call once, in the loop that will serve."""
        await self.service.start()
        self.schedules.start()

    async def close(self) -> None:
        """Stop the schedules and the Lambda service (its environments).

        Also cancels the retirement of services that `reload` replaced.
        """
        await self.schedules.stop()
        await self.service.close()
        for task in list(self._retiring):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def reload(self, config: ProjectConfig) -> None:
        """Serve `config` (new code, routes, settings) from now on.

        The old service's idle environments stop at once and busy ones after their
        invocation, so each function's next invocation cold-starts on the new code.
        """
        old_service, old_schedules = self.service, self.schedules
        service = LambdaService([config.catalog], config.lambda_settings)
        await service.start()
        await old_schedules.stop()
        self.config, self.service = config, service
        self.gateway.routes = config.routes or RouteTable({})
        self.schedules = EventBridgeSchedules([config.catalog], service, config.schedule_seconds,
                                              use_environment_override=False)
        self.schedules.start()
        old_service.recycle()
        longest = max((f.timeout_seconds for f in old_service.functions()), default=0)
        task = asyncio.get_running_loop().create_task(self._retire(old_service, longest + 2))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _retire(self, service: LambdaService, after_seconds: float) -> None:
        try:
            await asyncio.sleep(after_seconds)
        finally:
            await service.close()

    async def serve(self, sockets: list[socket.socket], host: str, name: str) -> None:
        """Serve the REST API on `sockets`, bound on `host` (`http_server.listen`, which says
        whether the port can be had before anything starts), until SIGINT/SIGTERM; the
        server closes them when it stops.
        """
        port = bound_port(sockets)
        server = build_server(self.gateway, host, port, self.config.gateway.limits,
                              render_error=self.render_error)
        serving = asyncio.ensure_future(server.serve(sockets=sockets))
        while not server.started and not serving.done():
            await asyncio.sleep(0.01)
        if server.started:
            print(f"{name}: serving on http://{host}:{port}", flush=True)
        await serving
