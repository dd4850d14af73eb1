"""`shop deploy --destroy`: remove from the target everything `shop deploy` made for a stage."""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from shop_local.deploy import broker, chalice_run
from shop_local.deploy.cloud_settings import SettingsStore
from shop_local.deploy.endpoint import child_environment, emulator_kind
from shop_local.deploy.target import DeployTarget

Say = Callable[[str], None]
SSM_DELETE_BATCH = 10  # DeleteParameters takes at most ten names


def _delete_mappings(target: DeployTarget, function_prefixes: list[str], say: Say) -> None:
    lam = target.client("lambda")
    for page in lam.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            name = function["FunctionName"]
            if not any(name == p or name.startswith(p + "-") for p in function_prefixes):
                continue
            for mapping in lam.list_event_source_mappings(
                    FunctionName=name).get("EventSourceMappings", []):
                lam.delete_event_source_mapping(UUID=mapping["UUID"])
                say(f"deleted mapping {mapping.get('EventSourceArn')} -> {name}")


def destroy(target: DeployTarget, say: Say) -> None:
    """`shop deploy --destroy`: delete the stage's Amazon MQ event-source mappings, then each
    app Chalice deployed from this checkout (`chalice delete`: functions, roles, REST API,
    schedules), the broker, every secret of the stage (without a recovery window) and every
    SSM parameter under `/shop/<stage>/`, and the recorded gaps. `say` gets the progress
    lines. RuntimeError when `chalice delete` fails; botocore errors propagate.
    """
    apps = target.apps()
    prefixes = [f"{app.app_name}-{target.stage}" for app in apps]
    _delete_mappings(target, prefixes, say)

    env = child_environment(target.endpoint)
    kind = emulator_kind(target.endpoint)
    for app in apps:
        staged = target.build_root / app.service
        if (staged / ".chalice" / "deployed" / f"{target.stage}.json").is_file():
            chalice_run.run(staged, target.stage, "delete", kind, env)
            say(f"{app.service}: deleted (functions, roles, REST API, schedules)")
        else:
            say(f"{app.service}: nothing deployed from this checkout")

    found = broker.find_broker(target)
    if found is not None:
        target.client("mq").delete_broker(BrokerId=found["BrokerId"])
        say(f"deleted Amazon MQ broker {target.names.broker}")

    store = SettingsStore(target.names, target.client)
    secrets = target.client("secretsmanager")
    for name in store.secret_names():
        secrets.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    names = sorted(store.parameters())
    ssm = target.client("ssm")
    for start in range(0, len(names), SSM_DELETE_BATCH):
        ssm.delete_parameters(Names=names[start:start + SSM_DELETE_BATCH])
    say(f"deleted {len(names)} parameter(s) under {target.names.parameter_path} and "
        f"the secrets under {target.names.secret_prefix}")
    target.gaps_file.unlink(missing_ok=True)


def leftovers(target: DeployTarget) -> list[str]:
    """What of this stage still exists on the target (empty after a clean destroy)."""
    found: list[str] = []
    prefixes = [f"{app.app_name}-{target.stage}" for app in target.apps()]
    for page in target.client("lambda").get_paginator("list_functions").paginate():
        found += [f"function {f['FunctionName']}" for f in page["Functions"]
                  if any(f["FunctionName"] == p or f["FunctionName"].startswith(p + "-")
                         for p in prefixes)]
    names = {app.app_name for app in target.apps()}
    found += [f"REST API {api['name']} {api['id']}"
              for api in target.client("apigateway").get_rest_apis(limit=500)["items"]
              if api["name"] in names]
    try:
        rules = target.client("events").list_rules().get("Rules", [])
    except (ClientError, BotoCoreError):
        rules = []
    found += [f"rule {r['Name']}" for r in rules
              if any(r["Name"].startswith(p + "-") for p in prefixes)]
    for page in target.client("iam").get_paginator("list_roles").paginate():
        found += [f"role {r['RoleName']}" for r in page["Roles"]
                  if any(r["RoleName"].startswith(p + "-") for p in prefixes)]
    store = SettingsStore(target.names, target.client)
    found += [f"parameter {name}" for name in store.parameters()]
    found += [f"secret {name}" for name in store.secret_names()]
    if broker.find_broker(target) is not None:
        found.append(f"broker {target.names.broker}")
    return found
