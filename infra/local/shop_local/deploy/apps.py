"""The function apps of a checkout: functions/<service>/ with app.py and .chalice/config.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shop_local.paths import FUNCTIONS


@dataclass(frozen=True)
class FunctionApp:
    service: str
    directory: Path

    @property
    def config_file(self) -> Path:
        return self.directory / ".chalice" / "config.json"

    def config(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.config_file.read_text())
        return data

    @property
    def app_name(self) -> str:
        return str(self.config().get("app_name", f"shop-{self.service}"))


def discover(functions_dir: Path = FUNCTIONS) -> list[FunctionApp]:
    return [
        FunctionApp(folder.name, folder)
        for folder in sorted(functions_dir.iterdir())
        if (folder / "app.py").is_file() and (folder / ".chalice" / "config.json").is_file()
    ]


def app_name_of(service: str, functions_dir: Path = FUNCTIONS) -> str:
    """The app's Chalice name; `shop-<service>` until the app exists."""
    app = FunctionApp(service, functions_dir / service)
    return app.app_name if app.config_file.is_file() else f"shop-{service}"
