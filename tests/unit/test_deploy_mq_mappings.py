"""The Amazon MQ mappings: one spec, the same API call and template resource, AWS's limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ParamValidationError

from shop_local.deploy import mq_mappings, templates

BROKER = "arn:aws:mq:us-east-1:123456789012:broker:shop-dev:b-1234"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/dev/broker-AbCdEf"


def write_mappings(tmp_path: Path, **fields: object) -> Path:
    mapping = {"app": "communication", "function": "signup_email",
               "queue": "communication.signup_email", "routing_key": "user.signed_up", **fields}
    path = tmp_path / "mappings.json"
    path.write_text(json.dumps({"broker": {"vhost": "shop"}, "mappings": [mapping],
                                "profiles": {"local": {"maximum_batching_window_seconds": 0.1}}}))
    return path


def test_can_read_every_mapping_of_the_shared_file() -> None:
    specs = mq_mappings.load_specs()
    assert {s.function for s in specs} >= {"signup_email", "order_invoice"}
    for spec in specs:
        assert spec.vhost == "shop"
        assert spec.batch_size == 100
        assert spec.window_seconds is None  # 0.5 s is AWS's own default: the field is left out


def test_local_profile_never_reaches_the_cloud(tmp_path: Path) -> None:
    spec, = mq_mappings.load_specs(write_mappings(tmp_path))
    assert spec.window_seconds is None


def test_whole_second_window_is_kept(tmp_path: Path) -> None:
    spec, = mq_mappings.load_specs(write_mappings(tmp_path, maximum_batching_window_seconds=2))
    assert spec.window_seconds == 2
    params = mq_mappings.api_parameters(spec, "f", BROKER, SECRET)
    assert params["MaximumBatchingWindowInSeconds"] == 2


@pytest.mark.parametrize("window", [0.1, 1.5, 301])
def test_window_aws_cannot_take_is_refused_naming_the_mapping(
        tmp_path: Path, window: float) -> None:
    with pytest.raises(mq_mappings.MappingFileError, match=r"communication\.signup_email"):
        mq_mappings.load_specs(write_mappings(tmp_path, maximum_batching_window_seconds=window))


def test_batch_size_beyond_amazon_mq_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(mq_mappings.MappingFileError, match="batch_size"):
        mq_mappings.load_specs(write_mappings(tmp_path, batch_size=10001))


def test_api_call_passes_botocore_validation() -> None:
    for spec in mq_mappings.load_specs():
        params = mq_mappings.api_parameters(spec, spec.function_name("shop-communication", "dev"),
                                            BROKER, SECRET)
        mq_mappings.check_api_parameters(params)
        assert params["Queues"] == [spec.queue]
        assert {"Type": "VIRTUAL_HOST", "URI": "shop"} in params["SourceAccessConfigurations"]
        assert {"Type": "BASIC_AUTH", "URI": SECRET} in params["SourceAccessConfigurations"]


def test_botocore_validation_catches_a_malformed_call() -> None:
    spec = mq_mappings.load_specs()[0]
    params = mq_mappings.api_parameters(spec, "f", BROKER, SECRET)
    params["MaximumBatchingWindowInSeconds"] = 0.5  # the API takes integers only
    with pytest.raises(ParamValidationError):
        mq_mappings.check_api_parameters(params)


def test_template_resource_says_what_the_api_call_says() -> None:
    for spec in mq_mappings.load_specs():
        resource = mq_mappings.template_resource(spec, "shop-communication")["Properties"]
        params = mq_mappings.api_parameters(spec, "f", BROKER, SECRET)
        for key in ("Queues", "BatchSize", "Enabled"):
            assert resource[key] == params[key]
        assert [c["Type"] for c in resource["SourceAccessConfigurations"]] == [
            c["Type"] for c in params["SourceAccessConfigurations"]]
        assert resource["FunctionName"] == {
            "Fn::Sub": f"shop-communication-${{Stage}}-{spec.function}"}


def test_mappings_template_is_cfn_lint_clean() -> None:
    assert templates.lint(templates.mq_mappings_template()) == []
