"""Environments driven by `python -m awslambdaric` against the HTTP Lambda Runtime API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from shop_local.runtime.catalog import AppCatalog, FunctionSpec
from shop_local.runtime.lambda_service import LambdaService
from tests.integration.runtime.lambda_support import (
    PREFIX,
    document,
    event,
    probe_catalog,
    run_with_service,
)

pytestmark = pytest.mark.timeout(180)
PROBE = PREFIX + "probe"


def command_of(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def test_awslambdaric_polls_the_http_runtime_api(tmp_path: Path) -> None:
    async def body(service: LambdaService) -> None:
        results = await asyncio.gather(*(service.invoke(PROBE, event(sleep=0.3, say="http"))
                                         for _ in range(2)))
        answers = [document(r) for r in results]
        assert answers[0]["pid"] != answers[1]["pid"]
        for answer, result in zip(answers, results, strict=True):
            assert command_of(answer["pid"])[-3:] == ["-m", "awslambdaric", "app.probe"]
            assert answer["context"]["aws_request_id"] == result.request_id
            assert answer["context"]["invoked_function_arn"].endswith(f":function:{PROBE}")
            assert 25_000 < answer["context"]["remaining_time_in_millis"] <= 30_000
            assert answer["variables"]["AWS_LAMBDA_FUNCTION_NAME"] == PROBE
        warm = document(await service.invoke(PROBE, event()))
        assert warm["pid"] in {a["pid"] for a in answers} and warm["count"] == 2
        failed = await service.invoke(PREFIX + "fail", event(why="over the runtime api"))
        assert failed.function_error == "Unhandled"
        assert document(failed)["errorMessage"] == "asked to fail: over the runtime api"
        late = await service.invoke(PREFIX + "sleepy", event(seconds=4))
        assert "Task timed out after 2.00 seconds" in document(late)["errorMessage"]

    run_with_service(probe_catalog(), tmp_path, body, transport="http")
    log = (tmp_path / f"{PROBE}.log").read_text()
    assert "probe says http" in log and "REPORT RequestId: " in log


def test_an_init_error_is_posted_to_the_runtime_api(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "broken.py").write_text("raise RuntimeError('cannot start')\n")
    spec = FunctionSpec(name="scratch-dev-broken", handler="broken.handler", code_dir=str(code))

    async def body(service: LambdaService) -> None:
        result = await service.invoke(spec.name, b"{}")
        assert result.function_error == "Unhandled"
        assert document(result)["errorMessage"] == "cannot start"
        assert document(result)["errorType"] == "RuntimeError"

    run_with_service(AppCatalog("scratch", "dev", str(code), [spec]), tmp_path / "logs", body,
                     transport="http")
