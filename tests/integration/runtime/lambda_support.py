"""Helpers for the Lambda service tests: the probe app's catalog and a service run in the test."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from shop_local.runtime.catalog import AppCatalog, load_catalog
from shop_local.runtime.invocation import InvocationResult
from shop_local.runtime.invoke_auth import InvokeAuth, InvokeCredentials
from shop_local.runtime.lambda_service import LambdaService
from shop_local.runtime.lambda_settings import (
    ACCESS_KEY_VARIABLE,
    SECRET_KEY_VARIABLE,
    LambdaSettings,
)

PROBE_APP = Path(__file__).parent / "apps" / "lambda_probe"
PREFIX = "lambda-probe-dev-"
T = TypeVar("T")
# The key the tests' Invoke API routers (and the processes behind them) take, as the
# stack's generated key in `.env`.
TEST_CREDENTIALS = InvokeCredentials(f"AKIATEST{secrets.token_hex(6).upper()}",
                                     secrets.token_urlsafe(18))


def credentials_environment(credentials: InvokeCredentials = TEST_CREDENTIALS
                            ) -> dict[str, str]:
    """The variables that give a runtime process (router, service host) the stack's key."""
    return {ACCESS_KEY_VARIABLE: credentials.access_key_id,
            SECRET_KEY_VARIABLE: credentials.secret_access_key}


def probe_catalog() -> AppCatalog:
    return load_catalog(PROBE_APP, "dev")


def run_with_service(catalog: AppCatalog, log_dir: Path,
                     body: Callable[[LambdaService], Awaitable[T]], **settings: Any) -> T:
    """Start a Lambda service for `catalog`, run `body` with it, always close it."""

    async def main() -> T:
        service = LambdaService([catalog], LambdaSettings(log_dir=log_dir, **settings))
        await service.start()
        try:
            return await body(service)
        finally:
            await service.close()

    return asyncio.run(main())


def document(result: InvocationResult) -> Any:
    return json.loads(result.payload)


def event(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


class BackgroundService:
    """A Lambda service and its Invoke API on a loop in a thread, for tests that call it over HTTP.

    `url` is the Invoke API, open to any caller as under `shop serve` without a key; with
    `registry`, the service also registers itself there and `router_url` is the stack's
    one-port router in front of it, which takes only calls signed with TEST_CREDENTIALS.
    """

    def __init__(self, catalog: AppCatalog, log_dir: Path, registry: Path | None = None,
                 **settings: Any) -> None:
        import threading

        self.catalog = catalog
        self._settings = LambdaSettings(log_dir=log_dir, registry_dir=registry, **settings)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.service, self.url, self.router_url = self._call(self._start(registry))

    def _call(self, coroutine: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(120)  # type: ignore[arg-type]

    async def _start(self, registry: Path | None) -> tuple[LambdaService, str, str]:
        from shop_local.runtime.invoke_api import InvokeApi, serve_in_background
        from shop_local.runtime.lambda_router import InvokeRouter

        # A registered process serves its functions only to callers signed with the key.
        environment = {**os.environ, **credentials_environment()} if registry else None
        service = LambdaService([self.catalog], self._settings, environment=environment)
        await service.start()
        self._servers = []
        server, _task, port = await serve_in_background(
            InvokeApi(service, InvokeAuth.open()), "127.0.0.1", 0)
        self._servers.append(server)
        router_url = ""
        if registry is not None:
            router, _task, router_port = await serve_in_background(
                InvokeRouter(registry, TEST_CREDENTIALS), "127.0.0.1", 0)
            self._servers.append(router)
            router_url = f"http://127.0.0.1:{router_port}"
        return service, f"http://127.0.0.1:{port}", router_url

    async def _stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        await asyncio.sleep(0.2)
        await self.service.close()

    def close(self) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def lambda_client(url: str, credentials: InvokeCredentials = TEST_CREDENTIALS) -> Any:
    """boto3's Lambda client for a local Invoke API, signing with `credentials`."""
    import boto3
    from botocore.config import Config

    return boto3.client("lambda", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=credentials.access_key_id,
                        aws_secret_access_key=credentials.secret_access_key,
                        config=Config(retries={"max_attempts": 0}, read_timeout=120))
