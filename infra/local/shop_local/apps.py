"""The one registry of the checkout's function apps: `functions/<service>/` Chalice projects.

Everything that needs "which apps are there" (the stack, the runtime, the deploy, the
tests) asks here. An app is a folder with `app.py` and `.chalice/config.json`; an
HTTP app is one that has an address in the settings (`SHOP_<SERVICE>_SERVICE_URL`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shop_common.config import Settings
from shop_local.paths import FUNCTIONS


@dataclass(frozen=True)
class FunctionApp:
    """One Chalice project: `service` is its folder's name, e.g. `product`."""

    service: str
    directory: Path

    @property
    def config_file(self) -> Path:
        """The app's `.chalice/config.json`."""
        return self.directory / ".chalice" / "config.json"

    def config(self) -> dict[str, Any]:
        """The parsed `.chalice/config.json`; raises OSError or ValueError when unreadable."""
        data: dict[str, Any] = json.loads(self.config_file.read_text())
        return data

    @property
    def app_name(self) -> str:
        """Chalice's `app_name` (`shop-<service>` when the config names none)."""
        return str(self.config().get("app_name", f"shop-{self.service}"))

    @property
    def has_http_api(self) -> bool:
        """Whether the app serves HTTP (`is_http_service`)."""
        return is_http_service(self.service)


def is_http_service(service: str) -> bool:
    """Whether a service answers HTTP: it has an address setting, `<service>_service_url`."""
    return f"{service}_service_url" in Settings.model_fields


def discover(functions_dir: Path = FUNCTIONS) -> list[FunctionApp]:
    """Every function app under `functions_dir`, sorted by folder name."""
    if not functions_dir.is_dir():
        return []
    return [
        FunctionApp(folder.name, folder)
        for folder in sorted(functions_dir.iterdir())
        if (folder / "app.py").is_file() and (folder / ".chalice" / "config.json").is_file()
    ]


def function_dir(service: str, functions_dir: Path = FUNCTIONS) -> Path:
    """The folder of `service`'s app: `<functions_dir>/<service>/` (whether it exists or not).
    """
    return functions_dir / service


def service_exists(service: str, functions_dir: Path = FUNCTIONS) -> bool:
    """Whether `service` has an app in this checkout (its folder holds an `app.py`)."""
    return (function_dir(service, functions_dir) / "app.py").is_file()


def services(functions_dir: Path = FUNCTIONS) -> list[str]:
    """The names of every app present, e.g. `["communication", "order", "product", "user"]`."""
    return [app.service for app in discover(functions_dir)]


def http_services(functions_dir: Path = FUNCTIONS) -> list[str]:
    """The apps that serve HTTP, in the order of their address settings."""
    suffix = "_service_url"
    declared = [name[: -len(suffix)] for name in Settings.model_fields if name.endswith(suffix)]
    return [s for s in declared if service_exists(s, functions_dir)]


def app_name_of(service: str, functions_dir: Path = FUNCTIONS) -> str:
    """The app's Chalice name; `shop-<service>` until the app exists."""
    app = FunctionApp(service, functions_dir / service)
    return app.app_name if app.config_file.is_file() else f"shop-{service}"
