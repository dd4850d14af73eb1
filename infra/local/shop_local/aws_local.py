"""The AWS account and region every local emulator reports (the local runtime, the deploy target).

One place, so an ARN built by the Lambda service, an EventBridge event and an Amazon MQ
event all name the same account and region.
"""

from __future__ import annotations

LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT = "123456789012"
