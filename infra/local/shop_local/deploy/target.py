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
from shop_local.paths import DEPLOY_STATE_DIR, FUNCTIONS


@dataclass(frozen=True)
class Gap:
    """A resource the emulator could not hold: built and proven well-formed, never faked."""

    resource: str
    name: str
    reason: str
    proofs: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One report line: `<resource> <name>: <reason> [<proofs>]`."""
        proofs = f" [{'; '.join(self.proofs)}]" if self.proofs else ""
        return f"{self.resource} {self.name}: {self.reason}{proofs}"


@dataclass(frozen=True)
class DeployTarget:
    """Where and what `shop deploy` deploys: the endpoint, the stage (`dev`), the folder for its
    working files (`var/deploy`) and the checkout's functions/.
    """
    endpoint: Endpoint
    stage: str = "dev"
    state_dir: Path = DEPLOY_STATE_DIR
    functions_dir: Path = FUNCTIONS

    @property
    def names(self) -> CloudNames:
        """The names of the stage's resources outside Chalice (SSM parameters, secrets, the
        broker).
        """
        return CloudNames(self.stage)

    @property
    def build_root(self) -> Path:
        """Where the stage's apps are staged: `<state_dir>/<stage>/build/<service>/`."""
        return self.state_dir / self.stage / "build"

    @property
    def cache_dir(self) -> Path:
        """The requirements installed for the Lambda platform, shared by every stage:
        `<state_dir>/cache/`.
        """
        return self.state_dir / "cache"

    @property
    def gaps_file(self) -> Path:
        """The JSON list of gaps the last deploy recorded for this stage on this endpoint's port
        (what `--verify` reports as not held).
        """
        return self.state_dir / self.stage / f"emulator-gaps-{self.endpoint.port}.json"

    @property
    def layer_dir(self) -> Path:
        """The shared layer of the checkout being deployed (beside its functions/)."""
        beside = self.functions_dir.parent / "layers" / "common" / "python" / "shop_common"
        return beside if beside.is_dir() else Path(shop_common.__file__).resolve().parent

    def client(self, service: str) -> Any:
        """A boto3 client of `service` (`lambda`, `ssm`, …) at the target endpoint, with its
        dummy credentials and region.
        """
        return self.endpoint.client(service)

    def apps(self) -> list[FunctionApp]:
        """The checkout's function apps (one per folder of functions/ with an `app.py`)."""
        return discover(self.functions_dir)

    def save_gaps(self, gaps: list[Gap]) -> None:
        """Write `gaps` to `gaps_file` (replacing what was there). OSError when it cannot."""
        self.gaps_file.parent.mkdir(parents=True, exist_ok=True)
        self.gaps_file.write_text(json.dumps([asdict(g) for g in gaps], indent=2))

    def load_gaps(self) -> list[Gap]:
        """The gaps `save_gaps` wrote, or none when there is no file. ValueError or TypeError
        when the file is not such a list.
        """
        if not self.gaps_file.is_file():
            return []
        return [Gap(**g) for g in json.loads(self.gaps_file.read_text())]
