"""The trivial route as a plain Lambda handler (API Gateway proxy integration)."""

import json


def ping(event, context):  # the Lambda handler signature
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"ok": True})}
