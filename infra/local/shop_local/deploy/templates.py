"""The cloud wiring Chalice does not generate, as CloudFormation templates under infra/aws/.

Two stacks, because the mappings need the functions and the functions need the platform:
1. `shop-platform.json`, deployed before `chalice deploy`: the Amazon MQ broker, its
   administrator's credentials and each service's own database, Redis and broker
   credentials in Secrets Manager (the functions read them by name at cold start), the
   PostgreSQL (RDS) and Redis (ElastiCache) instances, and SSM parameters holding the
   database, Redis and broker endpoints, which the deploy resolves into each
   function's environment.
2. `shop-mq-mappings.json`, deployed after: the communication app's Amazon MQ
   event-source mappings, generated from infra/event-source-mappings.json.
Plus `policies/<service>.json`, each app's IAM policy (for the `dev` stage; the deploy
generates the same for any stage).

`python -m shop_local.deploy.templates` rewrites them; `--check` fails when the
committed files differ from what the generators produce (a test runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from shop_common.config import SERVICES
from shop_local.apps import app_name_of
from shop_local.aws_local import LOCAL_REGION
from shop_local.deploy import mq_mappings, policies
from shop_local.deploy.names import CloudNames
from shop_local.mappings import load_mapping_file
from shop_local.paths import FUNCTIONS, ROOT

AWS_DIR = ROOT / "infra" / "aws"
TEMPLATE_VERSION = "2010-09-09"
REFERENCE_STAGE = "dev"
BROKER_ENGINE_VERSION = "3.13"
POSTGRES_ENGINE_VERSION = "18"


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _parameter(name: str, value: Any, description: str) -> dict[str, Any]:
    """A String parameter; `name` carries `${Stage}` for CloudFormation to fill in."""
    return {"Type": "AWS::SSM::Parameter",
            "Properties": {"Name": _sub(name), "Type": "String", "Value": value,
                           "Description": description}}


def _generated_secret(name: Any, template: dict[str, str], description: str) -> dict[str, Any]:
    return {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Name": name,
            "Description": description,
            "GenerateSecretString": {
                "SecretStringTemplate": json.dumps(template),
                "GenerateStringKey": "password",
                "PasswordLength": 32,
                # Amazon MQ refuses , : = in passwords; URLs dislike the rest.
                "ExcludeCharacters": " \"'@/\\:,=%?#&",
            },
        },
    }


def platform_template(services: tuple[str, ...] = SERVICES) -> dict[str, Any]:
    """The CloudFormation template (a JSON-able dict) of the platform Chalice does not make, for
    `services`: the Amazon MQ broker with its administrator's generated secret, per service a
    database, a Redis and a broker credential secret, RDS PostgreSQL, ElastiCache Redis and
    the SSM parameters holding their endpoints; parameterised by `Stage`. Written to
    infra/aws/shop-platform.json.
    """
    names = CloudNames("${Stage}")
    resources: dict[str, Any] = {
        "BrokerCredentials": _generated_secret(
            _sub(names.broker_secret), {"username": "shop"},
            "Amazon MQ administrator (provisioning only; no function reads it)",
        ),
        "Broker": {
            "Type": "AWS::AmazonMQ::Broker",
            "Properties": {
                "BrokerName": _sub(names.broker),
                "EngineType": "RABBITMQ",
                "EngineVersion": BROKER_ENGINE_VERSION,
                "HostInstanceType": {"Ref": "BrokerInstanceType"},
                "DeploymentMode": "SINGLE_INSTANCE",
                "PubliclyAccessible": False,
                "AutoMinorVersionUpgrade": True,
                "SubnetIds": [{"Fn::Select": [0, {"Ref": "SubnetIds"}]}],
                "SecurityGroups": [{"Ref": "SecurityGroupId"}],
                "Users": [{
                    "Username": _sub(
                        "{{resolve:secretsmanager:${BrokerCredentials}:SecretString:username}}"),
                    "Password": _sub(
                        "{{resolve:secretsmanager:${BrokerCredentials}:SecretString:password}}"),
                }],
            },
        },
        "DatabaseSubnets": {
            "Type": "AWS::RDS::DBSubnetGroup",
            "Properties": {"DBSubnetGroupDescription": "Serverless Shop databases",
                           "SubnetIds": {"Ref": "SubnetIds"}},
        },
        "Database": {
            "Type": "AWS::RDS::DBInstance",
            "DeletionPolicy": "Snapshot",
            "UpdateReplacePolicy": "Snapshot",
            "Properties": {
                "Engine": "postgres",
                "EngineVersion": POSTGRES_ENGINE_VERSION,
                "DBInstanceClass": {"Ref": "DatabaseInstanceClass"},
                "AllocatedStorage": "20",
                "StorageEncrypted": True,
                "MasterUsername": "postgres",
                # RDS keeps the admin password in Secrets Manager itself; provisioning
                # (one role and database per service) reads it from there.
                "ManageMasterUserPassword": True,
                "DBSubnetGroupName": {"Ref": "DatabaseSubnets"},
                "VPCSecurityGroups": [{"Ref": "SecurityGroupId"}],
                "PubliclyAccessible": False,
            },
        },
        "CacheSubnets": {
            "Type": "AWS::ElastiCache::SubnetGroup",
            "Properties": {"Description": "Serverless Shop cache",
                           "SubnetIds": {"Ref": "SubnetIds"}},
        },
        "Cache": {
            "Type": "AWS::ElastiCache::CacheCluster",
            "Properties": {
                "Engine": "redis",
                "CacheNodeType": {"Ref": "CacheNodeType"},
                "NumCacheNodes": 1,
                "CacheSubnetGroupName": {"Ref": "CacheSubnets"},
                "VpcSecurityGroupIds": [{"Ref": "SecurityGroupId"}],
            },
        },
        "DatabaseEndpointParameter": _parameter(
            names.parameter("database", "endpoint"),
            _sub("${Database.Endpoint.Address}:${Database.Endpoint.Port}"),
            "PostgreSQL host:port of every service's database",
        ),
        "RedisEndpointParameter": _parameter(
            names.parameter("redis", "endpoint"),
            _sub("${Cache.RedisEndpoint.Address}:${Cache.RedisEndpoint.Port}"),
            "Redis host:port",
        ),
        "BrokerEndpointParameter": _parameter(
            names.parameter("broker", "endpoint"),
            {"Fn::Select": [0, {"Fn::GetAtt": ["Broker", "AmqpEndpoints"]}]},
            "Amazon MQ AMQP endpoint (amqps://host:port)",
        ),
        "BrokerVhostParameter": _parameter(
            names.parameter("broker", "vhost"), _vhost(), "RabbitMQ virtual host of the events",
        ),
    }
    for index, service in enumerate(services, start=1):
        title = service.capitalize()
        resources[f"{title}DatabaseCredentials"] = _generated_secret(
            _sub(names.database_secret(service)),
            {"username": f"shop_{service}", "dbname": f"shop_{service}"},
            f"the {service} service's own database role",
        )
        resources[f"{title}RedisCredentials"] = _generated_secret(
            _sub(names.redis_secret(service)), {"username": f"shop-{service}"},
            f"the {service} service's own Redis ACL user",
        )
        resources[f"{title}BrokerCredentials"] = _generated_secret(
            _sub(names.broker_user_secret(service)), {"username": f"shop-{service}"},
            f"the {service} service's own broker user (least privilege)",
        )
        resources[f"{title}RedisDatabaseParameter"] = _parameter(
            names.parameter(service, "redis_db"), str(index),
            f"the {service} service's Redis logical database",
        )
    return {
        "AWSTemplateFormatVersion": TEMPLATE_VERSION,
        "Description": "Serverless Shop platform: broker, databases, cache, settings "
                       "(generated by shop_local.deploy.templates)",
        "Parameters": {
            "Stage": {"Type": "String", "Default": REFERENCE_STAGE,
                      "AllowedPattern": "^[a-z][a-z0-9-]*$"},
            "SubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>",
                          "Description": "private subnets the functions, broker, database "
                                         "and cache share"},
            "SecurityGroupId": {"Type": "AWS::EC2::SecurityGroup::Id"},
            "BrokerInstanceType": {"Type": "String", "Default": "mq.t3.micro"},
            "DatabaseInstanceClass": {"Type": "String", "Default": "db.t4g.micro"},
            "CacheNodeType": {"Type": "String", "Default": "cache.t4g.micro"},
        },
        "Resources": resources,
        "Outputs": {
            "BrokerArn": {"Value": {"Fn::GetAtt": ["Broker", "Arn"]}},
            "BrokerCredentialsSecretArn": {"Value": {"Ref": "BrokerCredentials"}},
            **{f"{s.capitalize()}BrokerCredentialsSecretArn": {
                "Value": {"Ref": f"{s.capitalize()}BrokerCredentials"}}
               for s in services if consumes_mq(s)},
        },
    }


def _vhost() -> str:
    return load_mapping_file(profile=None).broker.vhost


def mq_mappings_template(functions_dir: Path = FUNCTIONS) -> dict[str, Any]:
    """The CloudFormation template of the Amazon MQ event-source mappings
    (`AWS::Lambda::EventSourceMapping`,
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-
    eventsourcemapping.html) of infra/event-source-mappings.json, parameterised by `Stage`,
    `BrokerArn` and `BrokerCredentialsSecretArn`. MappingFileError when the mapping file
    cannot be deployed.
    """
    resources = {}
    for spec in mq_mappings.load_specs():
        logical = "".join(part.capitalize() for part in f"{spec.service}_{spec.function}"
                          .replace("-", "_").split("_")) + "Mapping"
        resources[logical] = mq_mappings.template_resource(
            spec, app_name_of(spec.service, functions_dir))
    return {
        "AWSTemplateFormatVersion": TEMPLATE_VERSION,
        "Description": "Amazon MQ event-source mappings of the communication function app "
                       "(generated from infra/event-source-mappings.json)",
        "Parameters": {
            "Stage": {"Type": "String", "Default": REFERENCE_STAGE,
                      "AllowedPattern": "^[a-z][a-z0-9-]*$"},
            "BrokerArn": {"Type": "String",
                          "Description": "the platform stack's BrokerArn output"},
            "BrokerCredentialsSecretArn": {
                "Type": "String",
                "Description": "the platform stack's CommunicationBrokerCredentialsSecretArn "
                               "output: the mappings' own broker user, which may only read "
                               "their queues"},
        },
        "Resources": resources,
    }


def consumes_mq(service: str) -> bool:
    """Whether `service`'s app has an Amazon MQ event-source mapping in the mapping file."""
    return any(spec.service == service for spec in mq_mappings.load_specs())


def policy_documents(stage: str, functions_dir: Path = FUNCTIONS) -> dict[str, dict[str, Any]]:
    """Each service's IAM policy document for `stage` (`policies.policy_for`), by service."""
    return {
        service: policies.policy_for(
            service, app_name_of(service, functions_dir), stage, consumes_mq(service))
        for service in SERVICES
    }


def rendered_files() -> dict[Path, str]:
    """Every generated file of infra/aws/ (the two templates, each service's `dev` policy) and
    its text: JSON indented by 2, newline-terminated.
    """
    files = {
        AWS_DIR / "shop-platform.json": platform_template(),
        AWS_DIR / "shop-mq-mappings.json": mq_mappings_template(),
        **{AWS_DIR / "policies" / f"{service}.json": document
           for service, document in policy_documents(REFERENCE_STAGE).items()},
    }
    return {path: json.dumps(body, indent=2) + "\n" for path, body in files.items()}


def lint(template: dict[str, Any]) -> list[str]:
    """cfn-lint's findings on a template (errors and warnings), as text; empty when clean."""
    from cfnlint.api import ManualArgs
    from cfnlint.api import lint as cfn_lint

    matches = cfn_lint(json.dumps(template), config=ManualArgs(regions=[LOCAL_REGION]))
    return [str(match) for match in matches]


def main(argv: list[str] | None = None) -> int:
    """`python -m shop_local.deploy.templates [--check]`: write infra/aws/, or with `--check`
    list the stale files and return 1 when there are some.
    """
    parser = argparse.ArgumentParser(description="write infra/aws/ from its generators")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    stale = [path for path, text in rendered_files().items()
             if not path.is_file() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)}")
        return 1 if stale else 0
    for path, text in rendered_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
