"""The Postman collection, run by newman exactly as `make postman` runs it.

`make postman` runs tests/postman/newman.sh, which reads the addresses and the
superadmin's credentials from .env. Here the same script reads an env file written
for the throw-away stack, so the command line `make postman` uses is what is proven.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.integration.api.conftest import Caller
from tests.security.conftest import Services
from tests.support.client import DEFAULT_PASSWORD

pytestmark = pytest.mark.integration

POSTMAN = Path(__file__).resolve().parents[2] / "postman"
COLLECTION = POSTMAN / "shop.postman_collection.json"


def requests_in(collection: dict) -> list[dict]:
    found = []
    for item in collection["item"]:
        found += requests_in(item) if "item" in item else [item]
    return found


def test_every_request_of_the_collection_asserts_something() -> None:
    requests = requests_in(json.loads(COLLECTION.read_text()))
    assert len(requests) >= 25
    for request in requests:
        tests = [e for e in request.get("event", []) if e["listen"] == "test"]
        assert tests and "pm.test(" in "\n".join(tests[0]["script"]["exec"]), request["name"]


def test_newman_runs_the_collection_green(
    services: Services, superadmin: Caller, tmp_path: Path,
) -> None:
    assert (POSTMAN / "node_modules" / ".bin" / "newman").exists(), \
        "newman missing: `make install` runs npm ci in tests/postman"
    env_file = tmp_path / "stack.env"
    env_file.write_text("\n".join([
        f"SHOP_USER_SERVICE_URL={services.user.base_url}",
        f"SHOP_PRODUCT_SERVICE_URL={services.product.base_url}",
        f"SHOP_ORDER_SERVICE_URL={services.order.base_url}",
        f"SHOP_SUPERADMIN_EMAIL={superadmin.email}",
        f"SHOP_SUPERADMIN_PASSWORD={DEFAULT_PASSWORD}",
    ]) + "\n")
    result = subprocess.run(
        [str(POSTMAN / "newman.sh"), "--reporters", "cli,json",
         "--reporter-json-export", str(tmp_path / "newman.json"), "--color", "off"],
        env={"PATH": "/usr/bin:/bin", "SHOP_ENV_FILE": str(env_file)},
        capture_output=True, text=True, timeout=300, check=False,
    )
    report = result.stdout[-15_000:] + result.stderr[-3_000:]
    assert result.returncode == 0, report
    run = json.loads((tmp_path / "newman.json").read_text())["run"]
    stats = run["stats"]
    assert stats["requests"]["failed"] == 0 and stats["assertions"]["failed"] == 0, report
    # Every pm.test of the collection ran (none skipped by an early error).
    assert stats["assertions"]["total"] == COLLECTION.read_text().count("pm.test("), report
    # Every request went to the throw-away stack, none to the fixed local ports.
    hosts = {re.sub(r"^(https?://[^/]+).*$", r"\1", e["request"]["url"]["protocol"] + "://"
                    + ".".join(e["request"]["url"]["host"]) + ":" + e["request"]["url"]["port"])
             for e in run["executions"]}
    stack = {services.client(s).base_url for s in ("user", "product", "order")}
    assert hosts == stack, hosts
