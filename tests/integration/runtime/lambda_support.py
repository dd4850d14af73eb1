"""Helpers for the Lambda service tests: the probe app's catalog and a service run in the test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from shop_local.runtime.catalog import AppCatalog, load_catalog
from shop_local.runtime.invocation import InvocationResult
from shop_local.runtime.lambda_service import LambdaService
from shop_local.runtime.lambda_settings import LambdaSettings

PROBE_APP = Path(__file__).parent / "apps" / "lambda_probe"
PREFIX = "lambda-probe-dev-"
T = TypeVar("T")


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
