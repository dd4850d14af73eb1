"""Where email goes: SMTP (the local stack's sink) or Amazon SES, chosen by `SHOP_MAIL_BACKEND`."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any, Protocol

from shop_common.config import Settings


class PermanentSendError(Exception):
    """The mail server refused this message for good: sending it again cannot help."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand the message over; raise if the server did not accept it
        (PermanentSendError when it never will)."""


def smtp_refusal(exc: smtplib.SMTPException) -> int | None:
    """The SMTP reply code refusing the message, if the exception carries one."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return min(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code
    return None


class SmtpMailer:
    def __init__(self, host: str, port: int, timeout_seconds: float) -> None:
        self._host, self._port, self._timeout = host, port, timeout_seconds

    def send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPException as exc:
            code = smtp_refusal(exc)
            # 5yz is a permanent negative completion reply (RFC 5321 §4.2.1); 4yz, or a
            # connection that failed, is worth another try.
            if code is not None and 500 <= code < 600:
                raise PermanentSendError(f"SMTP {code}: {type(exc).__name__}") from exc
            raise


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
