"""Secrets out of log lines: bearer tokens, JWTs, passwords, URL credentials, hashes, keys.

Two layers. `redact` replaces whole values whose *name* says they are secret (an
`extra={"password": …}` field). `redact_text` finds secrets inside free text by their
*shape*, wherever the text came from: a message, its arguments, an exception's text
and traceback, a third-party library's line, an HTTP server's error print. Both err
on the side of hiding too much: a log line loses a harmless value sooner than it
keeps a credential.

`RedactingFilter` applies both to a `logging.LogRecord` before any formatter sees it.
It is installed on the root handler, so records of every logger that propagates
(third-party ones included) pass through it; a handler's filters run for propagated
records too, unlike a logger's. See
https://docs.python.org/3/library/logging.html#filter-objects.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"
SENSITIVE_WORDS = ("password", "token", "secret", "authorization", "cookie", "key")

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_MARK = "_shop_redacted"

# Names whose value is a secret in `name=value`, `name: value`, `"name": "value"`.
_SECRET_NAME = (
    r"[\w-]*(?:password|passwd|passphrase|pwd|secret|token|authorization|cookie"  # noqa: S105
    r"|(?:api|access|private|signing)[_-]?key|credentials?)[\w-]*"
)
# A value: quoted (with escapes), or bare up to a delimiter; an auth scheme stays with it.
_VALUE = (
    r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'"
    r"|(?:(?:Bearer|Basic|Digest)\s+)?(?:\\[\"']|[^\s,;&)}\]\"'\\])+"
)
_NAMED_VALUE = re.compile(
    rf"(?i)(?<![\w-])(?P<name>{_SECRET_NAME})(?P<sep>[\"']?\s*[:=]\s*)"
    rf"(?!\[redacted|\"\[redacted|'\[redacted)(?P<value>{_VALUE})"
)
# Case-sensitive but for Bearer: "basic auth" in prose is no credential.
_AUTH_SCHEME = re.compile(r"\b(?P<scheme>[Bb]earer|BEARER|Basic|Digest)(?P<space>\s+)"
                          r"(?!\[redacted)[A-Za-z0-9\-._~+/]+=*")
# Three base64url parts, the first a JSON header (`{"` encodes as `eyJ`): RFC 7519 §3.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
# scheme://user:password@host (RFC 3986 §3.2.1: the password holds no unescaped '/' or '@').
_URL_PASSWORD = re.compile(r"(?i)\b(?P<head>[a-z][a-z0-9+.-]*://[^\s:/?#@]*:)"
                           r"(?!\[redacted)[^\s@/]+@")
_PASSWORD_HASH = re.compile(r"\$argon2(?:id|i|d)\$[^\s\"',;)}\]]*")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"
                          r"(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|[\s\S]*)")
# Cheap first look: most lines hold none of these, and skip the patterns above.
_MAYBE_SECRET = re.compile(
    r"(?i)pass|pwd|secret|token|auth|bearer|basic|digest|cookie|key|credential|eyJ|://"
    r"|\$argon2"
)


def _quoted_redacted(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group('name')}{match.group('sep')}{quote}{REDACTED}{quote}"


def redact_text(text: str) -> str:
    """`text` with every secret it visibly holds replaced by `[redacted]`; idempotent."""
    if not _MAYBE_SECRET.search(text):
        return text
    text = _PRIVATE_KEY.sub(REDACTED, text)
    text = _PASSWORD_HASH.sub(REDACTED, text)
    text = _NAMED_VALUE.sub(_quoted_redacted, text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group('scheme')}{m.group('space')}{REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{REDACTED}@", text)


# Exactly these types (not subclasses, which may be anything) are written as they are.
_PLAIN_SCALARS = frozenset({type(None), bool, int, float})


# Field names repeat on every line (`status`, `path`, …): decide each name once.
# Bounded, as names can come from data (the keys of a logged dict).
@functools.lru_cache(maxsize=1024)
def _is_secret_name(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SENSITIVE_WORDS)


def redact(value: Any, key: str = "") -> Any:
    """A structured value with secret-named fields replaced and every string redacted."""
    if _is_secret_name(key):
        return REDACTED
    if type(value) in _PLAIN_SCALARS:  # most fields: skips the Mapping ABC check below
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))  # written with str() anyway: look at that text


_traceback_formatter = logging.Formatter()


def _redact_extras(record: logging.LogRecord) -> None:
    """Every extra field redacted, each on its own: one whose value cannot be read (its
    `__str__` raises) becomes `[redacted]` and the fields after it are still redacted.
    """
    for name, value in list(vars(record).items()):
        if name in _STANDARD_ATTRS or name.startswith("_"):
            continue
        try:
            redacted = redact(value, name)
        except Exception:  # unreadable, so uncheckable: hidden (formatters would raise too)
            redacted = REDACTED
        setattr(record, name, redacted)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place (once): message with its arguments, extras, traceback, stack.

    Never raises: a message that cannot be checked (an argument's `__str__` raises) is
    replaced by a notice; extras are redacted one by one (`_redact_extras`) either way.
    """
    if getattr(record, _MARK, False):
        return record
    _redact_extras(record)
    try:
        record.msg = redact_text(record.getMessage())
        record.args = None
        if record.exc_info:
            # Formatted here so no formatter downstream formats the raw exception again.
            record.exc_text = record.exc_text or _traceback_formatter.formatException(
                record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
    except Exception:  # a line that cannot be checked is not written as it was
        record.msg, record.args, record.exc_info, record.exc_text = (
            "[log line withheld: it could not be checked for secrets]", None, None, None)
    setattr(record, _MARK, True)
    return record


class RedactingFilter(logging.Filter):
    """Lets every record through, with its secrets replaced (see `redact_record`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True
