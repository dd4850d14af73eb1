"""Where email goes: SMTP (the local stack's sink) or Amazon SES, chosen by `SHOP_MAIL_BACKEND`."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any, Protocol

from shop_common.config import Settings


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand the message over; raise if the server did not accept it."""


class SmtpMailer:
    def __init__(self, host: str, port: int, timeout_seconds: float) -> None:
        self._host, self._port, self._timeout = host, port, timeout_seconds

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            smtp.send_message(message)


class SesMailer:
    """SES v2 with the raw MIME message, so both backends send byte-for-byte the same email."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    def send(self, message: EmailMessage) -> None:
        if self._client is None:
            import boto3  # only the cloud needs it; imported on first send, not at start

            self._client = boto3.client("sesv2")
        self._client.send_email(
            FromEmailAddress=str(message["From"]),
            Destination={"ToAddresses": [str(message["To"])]},
            Content={"Raw": {"Data": message.as_bytes()}},
        )


def create_mailer(settings: Settings) -> Mailer:
    if settings.mail_backend == "ses":
        return SesMailer()
    return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_timeout_seconds)
