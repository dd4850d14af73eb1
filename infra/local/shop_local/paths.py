"""Where things are in a checkout; everything written at run time goes under var/."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FUNCTIONS = ROOT / "functions"
VAR = ROOT / "var"
LOGS = VAR / "logs"
RUN = VAR / "run"
# The SMTP sink's Maildir (runtime/smtp_sink.py), read by `shop mail` (stack/mail.py).
MAILDIR = VAR / "mail"
# `shop deploy`'s staged packages and embedded emulator's pid and log (deploy/target.py).
DEPLOY_STATE_DIR = VAR / "deploy"
ENV_FILE = ROOT / ".env"
ENV_EXAMPLE = ROOT / ".env.example"
MAPPINGS_FILE = ROOT / "infra" / "event-source-mappings.json"
# The shop's API Gateway "gateway responses" (its own errors as problems), every API alike.
GATEWAY_RESPONSES_FILE = ROOT / "infra" / "api-gateway-responses.json"
