"""One deploy target: an endpoint, a stage, and where the deploy keeps its working files."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import shop_common
from shop_local.apps import FunctionApp, discover
from shop_local.deploy.endpoint import Endpoint
from shop_local.deploy.names import CloudNames
from shop_local.paths import FUNCTIONS, VAR

DEFAULT_STATE_DIR = VAR / "deploy"


@dataclass(frozen=True)
class Gap:
    """A resource the emulator could not hold: built and proven well-formed, never faked."""

    resource: str
    name: str
    reason: str
    proofs: list[str] = field(default_factory=list)

    def describe(self) -> str:
        proofs = f" [{'; '.join(self.proofs)}]" if self.proofs else ""
        return f"{self.resource} {self.name}: {self.reason}{proofs}"


@dataclass(frozen=True)
class DeployTarget:
    endpoint: Endpoint
    stage: str = "dev"
    state_dir: Path = DEFAULT_STATE_DIR
    functions_dir: Path = FUNCTIONS

    @property
    def names(self) -> CloudNames:
        return CloudNames(self.stage)

    @property
    def build_root(self) -> Path:
        return self.state_dir / self.stage / "build"

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"

    @property
    def gaps_file(self) -> Path:
        return self.state_dir / self.stage / f"emulator-gaps-{self.endpoint.port}.json"

    @property
    def layer_dir(self) -> Path:
        """The shared layer of the checkout being deployed (beside its functions/)."""
        beside = self.functions_dir.parent / "layers" / "common" / "python" / "shop_common"
        return beside if beside.is_dir() else Path(shop_common.__file__).resolve().parent

    def client(self, service: str) -> Any:
        return self.endpoint.client(service)

    def apps(self) -> list[FunctionApp]:
        return discover(self.functions_dir)

    def save_gaps(self, gaps: list[Gap]) -> None:
        self.gaps_file.parent.mkdir(parents=True, exist_ok=True)
        self.gaps_file.write_text(json.dumps([asdict(g) for g in gaps], indent=2))

    def load_gaps(self) -> list[Gap]:
        if not self.gaps_file.is_file():
            return []
        return [Gap(**g) for g in json.loads(self.gaps_file.read_text())]
