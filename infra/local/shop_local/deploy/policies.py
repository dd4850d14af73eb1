"""Each function app's IAM policy, scoped to what that app uses.

Chalice's generated policies are off (`autogen_policy: false`): they would grant
what the code *might* call. These grant what each app does call:
- every app: its own log groups; the VPC network interfaces a function inside the
  VPC needs to reach RDS, ElastiCache and the broker (AWS allows only `*` there);
  its own signing key and the public keys, and its own database, Redis and broker
  credentials (read by name at cold start), from Secrets Manager (see README).
- the user app also reads the user-token signing key; no other app can.
- an app that consumes Amazon MQ (the mapping file says which): the broker's
  description and its own broker user's credentials, read by the Lambda service with
  the function's own role, which is how Amazon MQ event-source mappings work.
- the communication app sends email through SES in the cloud.
Endpoints reach a function through its environment, resolved at deploy from SSM, so
no function reads SSM itself; credentials never do (only the secrets' names).
"""

from __future__ import annotations

from typing import Any

from shop_common.keys import USER_TOKENS_KEY, service_key_name
from shop_local.deploy.names import CloudNames

ENI_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
]
MQ_MAPPING_NETWORK_ACTIONS = [
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
]
# Secrets Manager appends "-" and six random characters to every secret's ARN.
SECRET_SUFFIX = "-??????"  # noqa: S105 (an ARN pattern, not a password)
SENDS_EMAIL = frozenset({"communication"})


def secret_arn(name: str) -> str:
    """The ARN pattern of the secret `name` in any region and account: Secrets Manager appends
    `-` and six random characters to a secret's ARN
    (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-
    policies.html), matched by `-??????`.
    """
    return f"arn:aws:secretsmanager:*:*:secret:{name}{SECRET_SUFFIX}"


def policy_for(
    service: str, app_name: str, stage: str, consumes_mq: bool
) -> dict[str, Any]:
    """The IAM policy document (version 2012-10-17) of `service`'s app `app_name` at `stage`:
    its own log groups, VPC network interfaces, its own signing key and every public key, its
    own credential secrets; with `consumes_mq`, what an Amazon MQ event-source mapping needs
    with the function's role (https://docs.aws.amazon.com/lambda/latest/dg/with-
    mq.html#events-mq-permissions); SES for the communication app.
    """
    names = CloudNames(stage)
    log_group = f"arn:aws:logs:*:*:log-group:/aws/lambda/{app_name}-{stage}*"
    private_keys = [service_key_name(service)] + ([USER_TOKENS_KEY] if service == "user" else [])
    statements: list[dict[str, Any]] = [
        {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group, f"{log_group}:*"],
        },
        {"Sid": "VpcNetworkInterfaces", "Effect": "Allow", "Action": ENI_ACTIONS,
         "Resource": "*"},
        {
            "Sid": "SigningKeys",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [
                *(secret_arn(names.private_key_secret(k)) for k in private_keys),
                f"arn:aws:secretsmanager:*:*:secret:{names.public_key_secret('*')}",
            ],
        },
        {
            "Sid": "OwnCredentials",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [secret_arn(name) for name in names.credential_secrets(service)],
        },
    ]
    if consumes_mq:
        statements += [
            {
                "Sid": "AmazonMqEventSource",
                "Effect": "Allow",
                "Action": ["mq:DescribeBroker"],
                "Resource": f"arn:aws:mq:*:*:broker:{names.broker}:*",
            },
            {
                "Sid": "AmazonMqCredentials",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": secret_arn(names.broker_user_secret(service)),
            },
            {"Sid": "AmazonMqNetwork", "Effect": "Allow", "Action": MQ_MAPPING_NETWORK_ACTIONS,
             "Resource": "*"},
        ]
    if service in SENDS_EMAIL:
        statements.append({
            "Sid": "SendEmail",
            "Effect": "Allow",
            "Action": ["ses:SendEmail", "ses:SendRawEmail"],
            "Resource": "arn:aws:ses:*:*:identity/*",
        })
    return {"Version": "2012-10-17", "Statement": statements}
