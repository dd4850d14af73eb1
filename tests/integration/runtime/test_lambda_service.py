"""The local Lambda service with real execution environments: pools, context, limits, logs.

Every test runs a Lambda service in the test process against the probe app
(`apps/lambda_probe`): its functions run in real environment processes.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest

from shop_local.runtime.catalog import AppCatalog, FunctionSpec
from shop_local.runtime.invocation import RequestTooLarge, TooManyRequests
from shop_local.runtime.lambda_service import LambdaService
from tests.integration.runtime.lambda_support import (
    PREFIX,
    PROBE_APP,
    document,
    event,
    probe_catalog,
    run_with_service,
)

pytestmark = pytest.mark.timeout(180)

PROBE = PREFIX + "probe"


@pytest.fixture(scope="module")
def catalog() -> AppCatalog:
    return probe_catalog()


def test_catalog_has_the_deployed_names_handlers_and_settings(catalog: AppCatalog) -> None:
    probe = catalog.function(PROBE)
    assert probe is not None and probe.handler == "app.probe"
    assert probe.memory_mb == 256 and probe.timeout_seconds == 30
    assert probe.environment == {"PROBE_SETTING": "from-config"}
    sleepy, hog, limited = (catalog.function(PREFIX + n) for n in ("sleepy", "hog", "limited"))
    assert sleepy is not None and sleepy.timeout_seconds == 2
    assert hog is not None and hog.memory_mb == 128
    assert limited is not None and limited.reserved_concurrency == 1
    assert [(s.rule, s.expression, s.function) for s in catalog.schedules] == [
        ("lambda-probe-dev-tick-event", "rate(5 minutes)", PREFIX + "tick")]


def test_gateway_invocations_past_the_cap_queue_with_the_others_and_all_run(
        catalog: AppCatalog, tmp_path: Path) -> None:
    # `submit` is the API Gateway front's path; `invoke` that of schedules, MQ and boto3.
    async def body(service: LambdaService) -> None:
        submitted = [service.submit(PROBE, event(sleep=0.2)) for _ in range(4)]
        invoked = [service.invoke(PROBE, event(sleep=0.2)) for _ in range(2)]
        results = await asyncio.gather(*submitted, *invoked)
        assert all(r.function_error is None for r in results)
        assert len({document(r)["pid"] for r in results}) <= 2
        assert len({r.request_id for r in results}) == 6

    run_with_service(catalog, tmp_path, body, max_environments=2)


def test_a_queued_gateway_invocation_gets_a_fresh_environment_when_the_busy_one_dies(
        catalog: AppCatalog, tmp_path: Path) -> None:
    async def body(service: LambdaService) -> None:
        stuck = service.submit(f"{PREFIX}sleepy", event(seconds=4))  # its timeout is 2 s
        await asyncio.sleep(0.5)
        waiting = service.submit(f"{PREFIX}sleepy", event())
        timed_out, served = await asyncio.gather(stuck, waiting)
        assert document(timed_out)["errorType"] == "Sandbox.Timedout"
        assert served.function_error is None

    run_with_service(catalog, tmp_path, body, max_environments=1)


def test_concurrent_invocations_get_their_own_environments_and_sequential_ones_reuse_them(
        catalog: AppCatalog, tmp_path: Path) -> None:
    async def body(service: LambdaService) -> None:
        first, second = await asyncio.gather(
            service.invoke(PROBE, event(sleep=0.5)), service.invoke(PROBE, event(sleep=0.5)))
        one, two = document(first), document(second)
        assert one["pid"] != two["pid"]  # two processes ...
        assert one["count"] == two["count"] == 1  # ... each with its own module globals
        again = [document(await service.invoke(PROBE, event())) for _ in range(3)]
        assert {a["pid"] for a in again} <= {one["pid"], two["pid"]}  # warm ones reused
        counts = {one["pid"]: 1, two["pid"]: 1}
        for answer in again:
            counts[answer["pid"]] += 1
            assert answer["count"] == counts[answer["pid"]]
        assert len(service.environments(PROBE)) == 2

    run_with_service(catalog, tmp_path, body)


def test_environment_has_lambdas_variables_context_and_a_private_tmp(
        catalog: AppCatalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The stack's Invoke API key is the local service's, never its functions'.
    monkeypatch.setenv("SHOP_LAMBDA_ACCESS_KEY_ID", "AKIALOCALSTACK")
    monkeypatch.setenv("SHOP_LAMBDA_SECRET_ACCESS_KEY", "the-stacks-secret")

    async def body(service: LambdaService) -> None:
        results = await asyncio.gather(*(service.invoke(PROBE, event(sleep=0.3)) for _ in range(2)))
        answers = [document(r) for r in results]
        again = document(await service.invoke(PROBE, event()))
        return answers, again, [r.request_id for r in results]

    answers, again, request_ids = run_with_service(catalog, tmp_path, body)
    first = answers[0]
    variables, context = first["variables"], first["context"]
    assert variables["AWS_LAMBDA_FUNCTION_NAME"] == PROBE
    assert variables["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert variables["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert variables["AWS_REGION"] == variables["AWS_DEFAULT_REGION"] == "us-east-1"
    assert variables["AWS_EXECUTION_ENV"].startswith("AWS_Lambda_python3.")
    assert variables["_HANDLER"] == "app.probe"
    assert variables["LAMBDA_TASK_ROOT"] == str(PROBE_APP.resolve()) == first["cwd"]
    assert variables["LAMBDA_RUNTIME_DIR"] and os.path.isdir(variables["LAMBDA_RUNTIME_DIR"])
    assert variables["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{PROBE}"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}",
                        variables["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert variables["TZ"] == ":UTC"
    assert variables["PROBE_SETTING"] == "from-config"  # the function's Chalice configuration
    assert "SHOP_LAMBDA_SECRET_ACCESS_KEY" not in variables
    assert "SHOP_LAMBDA_ACCESS_KEY_ID" not in variables
    assert context["function_name"] == PROBE
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == (
        f"arn:aws:lambda:us-east-1:123456789012:function:{PROBE}")
    assert context["memory_limit_in_mb"] == "256"
    assert context["aws_request_id"] in request_ids
    assert context["log_group_name"] == f"/aws/lambda/{PROBE}"
    assert context["log_stream_name"] == variables["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert 25_000 < context["remaining_time_in_millis"] <= 30_000  # from the 30 s timeout
    # Each environment its own temporary folder: a fresh one has seen no marker.
    assert answers[0]["tmp"] != answers[1]["tmp"]
    assert not answers[0]["tmp_marker_seen_before"] and not answers[1]["tmp_marker_seen_before"]
    assert again["tmp_marker_seen_before"]  # ... and it persists across warm invocations
    assert answers[0]["variables"]["AWS_LAMBDA_LOG_STREAM_NAME"] != (
        answers[1]["variables"]["AWS_LAMBDA_LOG_STREAM_NAME"])


def test_a_function_past_its_timeout_is_stopped_and_the_next_gets_a_fresh_environment(
        catalog: AppCatalog, tmp_path: Path) -> None:
    sleepy = PREFIX + "sleepy"

    async def body(service: LambdaService) -> None:
        warm = document(await service.invoke(sleepy, event(seconds=0)))
        late = await service.invoke(sleepy, event(seconds=4))
        assert late.function_error == "Unhandled"
        error = document(late)
        assert error["errorType"] == "Sandbox.Timedout"
        assert error["errorMessage"] == (
            f"RequestId: {late.request_id} Error: Task timed out after 2.00 seconds")
        after = document(await service.invoke(sleepy, event(seconds=0)))
        assert after["pid"] != warm["pid"]

    run_with_service(catalog, tmp_path, body)
    log = (tmp_path / f"{sleepy}.log").read_text()
    assert "Task timed out after 2.00 seconds" in log


def test_a_function_past_its_memory_size_is_killed_and_the_function_recovers(
        catalog: AppCatalog, tmp_path: Path) -> None:
    hog = PREFIX + "hog"

    async def body(service: LambdaService) -> None:
        killed = await service.invoke(hog, event(mb=300, hold_seconds=1))
        assert killed.function_error == "Unhandled"
        error = document(killed)
        assert error["errorType"] == "Runtime.ExitError"
        assert error["errorMessage"] == (
            f"RequestId: {killed.request_id} Error: Runtime exited with error: signal: killed")
        fine = await service.invoke(hog, event(mb=10))
        assert fine.function_error is None and document(fine)["held_mb"] == 10

    run_with_service(catalog, tmp_path, body)


def test_a_response_over_six_mb_is_a_function_error(catalog: AppCatalog, tmp_path: Path) -> None:
    async def body(service: LambdaService) -> None:
        result = await service.invoke(PREFIX + "big", event(mb=7))
        assert result.function_error == "Unhandled"
        assert document(result)["errorType"] == "Function.ResponseSizeTooLarge"
        fits = await service.invoke(PREFIX + "big", event(mb=5))
        assert fits.function_error is None and len(document(fits)) == 5 * 1024 * 1024

    run_with_service(catalog, tmp_path, body)


def test_a_request_over_six_mb_is_refused_before_any_environment_starts(
        catalog: AppCatalog, tmp_path: Path) -> None:
    async def body(service: LambdaService) -> None:
        with pytest.raises(RequestTooLarge):
            await service.invoke(PROBE, event(padding="x" * (7 * 1024 * 1024)))
        assert service.environments(PROBE) == []

    run_with_service(catalog, tmp_path, body)


def test_reserved_concurrency_throttles_past_its_limit(catalog: AppCatalog,
                                                       tmp_path: Path) -> None:
    limited = PREFIX + "limited"

    async def body(service: LambdaService) -> None:
        busy = asyncio.ensure_future(service.invoke(limited, event(seconds=2)))
        while not any(e.state == "busy" for e in service.environments(limited)):
            await asyncio.sleep(0.05)
        with pytest.raises(TooManyRequests):
            await service.invoke(limited, event())
        assert (await busy).function_error is None
        assert (await service.invoke(limited, event())).function_error is None

    run_with_service(catalog, tmp_path, body)


def test_without_reserved_concurrency_invocations_wait_for_a_free_environment(
        catalog: AppCatalog, tmp_path: Path) -> None:
    async def body(service: LambdaService) -> None:
        results = await asyncio.gather(*(service.invoke(PROBE, event(sleep=0.2))
                                          for _ in range(5)))
        assert all(r.function_error is None for r in results)
        assert len({document(r)["pid"] for r in results}) <= 2

    run_with_service(catalog, tmp_path, body, max_environments=2)


def test_a_raised_exception_is_lambdas_error_document(catalog: AppCatalog,
                                                      tmp_path: Path) -> None:
    async def body(service: LambdaService) -> None:
        result = await service.invoke(PREFIX + "fail", event(why="testing"))
        assert result.function_error == "Unhandled"
        error = document(result)
        assert error["errorType"] == "ValueError"
        assert error["errorMessage"] == "asked to fail: testing"
        assert error["requestId"] == result.request_id
        assert any("in fail" in line for line in error["stackTrace"])

    run_with_service(catalog, tmp_path, body)


def test_log_has_start_end_and_report_with_init_duration_only_on_a_cold_start(
        catalog: AppCatalog, tmp_path: Path) -> None:
    async def body(service: LambdaService) -> list[str]:
        ids = []
        for word in ("one", "two"):
            result = await service.invoke(PROBE, event(say=word))
            ids.append(result.request_id)
        tail = await service.invoke(PROBE, event(say="tailed"), log_tail=True)
        ids.append(tail.request_id)
        assert f"START RequestId: {tail.request_id} Version: $LATEST" in tail.log_tail
        assert "probe says tailed" in tail.log_tail
        assert f"REPORT RequestId: {tail.request_id}" in tail.log_tail
        assert "probe says two" not in tail.log_tail  # only this invocation's lines
        return ids

    ids = run_with_service(catalog, tmp_path, body)
    log = (tmp_path / f"{PROBE}.log").read_text()
    reports = {}
    for request_id in ids:
        assert f"START RequestId: {request_id} Version: $LATEST\n" in log
        assert f"END RequestId: {request_id}\n" in log
        report = re.search(rf"REPORT RequestId: {request_id}\t(.*)\n", log)
        assert report is not None
        reports[request_id] = report.group(1)
    pattern = (r"Duration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\t"
               r"Max Memory Used: \d+ MB\t")
    for request_id, report in reports.items():
        assert re.match(pattern, report), report
        cold = request_id == ids[0]
        assert ("Init Duration: " in report) == cold, report
    assert log.index("probe says one") < log.index(f"END RequestId: {ids[0]}")


def test_secrets_a_function_prints_are_redacted_in_its_log(catalog: AppCatalog,
                                                           tmp_path: Path) -> None:
    token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJsZWFrIn0.c2lnbmF0dXJlLWxlYWs"
    password = "leaked-password-7f3a"

    async def body(service: LambdaService) -> str:
        # print() and awslambdaric's own [ERROR] line bypass the function's logging.
        await service.invoke(PROBE, event(say=f"Authorization: Bearer {token}"))
        tail = await service.invoke(PREFIX + "fail", event(why=f"password={password}"),
                                    log_tail=True)
        return tail.log_tail

    tail = run_with_service(catalog, tmp_path, body)
    logs = (tmp_path / f"{PROBE}.log").read_text() + (tmp_path / f"{PREFIX}fail.log").read_text()
    for secret in (token, password):
        assert secret not in logs and secret not in tail
    assert "probe says Authorization: [redacted]" in logs
    assert "asked to fail: password=[redacted]" in logs


def test_event_invocations_answer_at_once_and_run(catalog: AppCatalog, tmp_path: Path) -> None:
    async def body(service: LambdaService) -> str:
        result = await service.invoke(PROBE, event(say="queued"), "Event")
        assert result.payload == b"" and result.function_error is None
        for _ in range(300):
            if "probe says queued" in (tmp_path / f"{PROBE}.log").read_text(errors="replace") \
                    if (tmp_path / f"{PROBE}.log").exists() else False:
                break
            await asyncio.sleep(0.1)
            service.logs.flush()
        return result.request_id

    request_id = run_with_service(catalog, tmp_path, body)
    log = (tmp_path / f"{PROBE}.log").read_text()
    assert "probe says queued" in log and f"END RequestId: {request_id}" in log


def test_a_handler_that_cannot_be_imported_is_an_init_error(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "broken.py").write_text("import module_that_does_not_exist\n")
    spec = FunctionSpec(name="scratch-dev-broken", handler="broken.handler", code_dir=str(code))
    catalog = AppCatalog("scratch", "dev", str(code), [spec])

    async def body(service: LambdaService) -> None:
        for _ in range(2):  # and again: every invocation tries a fresh init
            result = await service.invoke(spec.name, b"{}")
            assert result.function_error == "Unhandled"
            error = document(result)
            assert error["errorType"] == "Runtime.ImportModuleError"
            assert "Unable to import module 'broken'" in error["errorMessage"]
        assert service.environments(spec.name) == []

    run_with_service(catalog, tmp_path / "logs", body)
