"""The cloud templates and IAM policies under infra/aws/: current, lint-clean, scoped."""

from __future__ import annotations

from typing import Any

from shop_local.deploy import templates
from shop_local.deploy.policies import policy_for


def actions(policy: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for statement in policy["Statement"]:
        found.update(statement["Action"])
    return found


def resources(policy: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for statement in policy["Statement"]:
        value = statement["Resource"]
        found += value if isinstance(value, list) else [value]
    return found


def test_committed_files_match_their_generators() -> None:
    # Stale? Run `python -m shop_local.deploy.templates` and commit the result.
    assert templates.main(["--check"]) == 0


def test_platform_template_is_cfn_lint_clean() -> None:
    assert templates.lint(templates.platform_template()) == []


def test_platform_keeps_endpoints_in_ssm_and_credentials_in_secrets_manager() -> None:
    resources_by_type: dict[str, list[str]] = {}
    for name, resource in templates.platform_template()["Resources"].items():
        resources_by_type.setdefault(resource["Type"], []).append(name)
    parameters = resources_by_type["AWS::SSM::Parameter"]
    assert {"DatabaseEndpointParameter", "RedisEndpointParameter",
            "BrokerEndpointParameter"} <= set(parameters)
    assert "BrokerCredentials" in resources_by_type["AWS::SecretsManager::Secret"]
    for kind in ("AWS::AmazonMQ::Broker", "AWS::RDS::DBInstance",
                 "AWS::ElastiCache::CacheCluster"):
        assert kind in resources_by_type


def test_no_policy_grants_every_action_or_every_secret() -> None:
    for service in ("user", "product", "order", "communication"):
        policy = policy_for(service, f"shop-{service}", "dev", service == "communication")
        assert not any(a.endswith(":*") or a == "*" for a in actions(policy))
        secrets = [r for r in resources(policy) if ":secretsmanager:" in r]
        assert secrets and all("shop/dev/" in r for r in secrets)


def test_only_the_user_app_reads_the_user_token_signing_key() -> None:
    for service in ("user", "product", "order", "communication"):
        policy = policy_for(service, f"shop-{service}", "dev", False)
        reads = any("private/user-tokens" in r for r in resources(policy))
        assert reads == (service == "user")


def test_only_the_mq_consumer_reads_the_broker_and_only_communication_sends_email() -> None:
    consumer = policy_for("communication", "shop-communication", "dev", True)
    assert {"mq:DescribeBroker", "ses:SendEmail"} <= actions(consumer)
    assert any(r.endswith("secret:shop/dev/communication/broker-??????")
               for r in resources(consumer))
    product = policy_for("product", "shop-product", "dev", False)
    assert "mq:DescribeBroker" not in actions(product)
    assert not any("ses:" in a for a in actions(product))


def test_each_app_reads_its_own_credentials_and_no_one_the_broker_administrators() -> None:
    services = ("user", "product", "order", "communication")
    for service in services:
        policy = policy_for(service, f"shop-{service}", "dev", service == "communication")
        secrets = {r for r in resources(policy) if ":secretsmanager:" in r}
        for kind in ("database", "redis", "broker"):
            assert f"arn:aws:secretsmanager:*:*:secret:shop/dev/{service}/{kind}-??????" in secrets
        others = [s for s in services if s != service]
        assert not any(f"shop/dev/{other}/" in r for r in secrets for other in others)
        assert not any(r.endswith("secret:shop/dev/broker-??????") for r in secrets)


def test_a_policy_names_only_its_own_stage_and_log_groups() -> None:
    policy = policy_for("order", "shop-order", "prod", False)
    assert all("/dev/" not in r for r in resources(policy))
    assert any(r.startswith("arn:aws:logs:*:*:log-group:/aws/lambda/shop-order-prod")
               for r in resources(policy))
