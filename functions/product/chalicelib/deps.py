"""The product service's long-lived parts, built on first use (never at import)."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from chalicelib import SERVICE
from chalicelib.catalog_cache import CatalogCache
from chalicelib.order_placement import OrderingDeps
from chalicelib.order_service_client import OrderServiceClient
from shop_common.runtime import ServiceRuntime, get_runtime
from shop_common.service_client import ServiceClient


def runtime() -> ServiceRuntime:
    return get_runtime(SERVICE)


@cache
def catalog_cache() -> CatalogCache:
    rt = runtime()
    return CatalogCache(rt.redis, rt.settings.redis_namespace + "catalog:",
                        ttl_seconds=rt.settings.catalog_cache_ttl_seconds)


@cache
def order_service_client() -> OrderServiceClient:
    rt = runtime()
    return OrderServiceClient(ServiceClient(rt.settings, rt.keys))


def ordering_deps() -> OrderingDeps:
    settings = runtime().settings
    return OrderingDeps(
        sessions=runtime().sessions,
        orders=order_service_client(),
        cache=catalog_cache(),
        strategy=settings.order_strategy,
        hold_for=timedelta(seconds=settings.reservation_settle_after_seconds),
    )
