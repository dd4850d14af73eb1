"""Credentials in plain sight: find them in a function's environment variables.

A Lambda configuration is readable by anyone allowed `lambda:GetFunctionConfiguration`
(and shows in consoles, logs of deploy tools, CloudFormation diffs), so a function's
environment must hold names of secrets, never their values. What counts as a
plaintext credential here:
- a URL with a password in its user information (`postgresql+pg8000://u:pw@host/db`);
- a PEM block (`-----BEGIN ... KEY-----`), a JSON Web Token, an AWS access key id;
- a variable whose name says it holds a password, token or key, with a value that is
  not itself a secret's name (`SHOP_SUPERADMIN_PASSWORD=...`);
- a value that looks like a generated key: one long run of base64/hex characters with
  the spread of a random string.
The findings name the variable and the reason, never the value.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*(KEY|CERTIFICATE)[A-Z ]*-----")
JWT = re.compile(r"\beyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]{10,}")
AWS_ACCESS_KEY = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")
# Ends with what it holds: SHOP_SUPERADMIN_PASSWORD, not SHOP_ACCESS_TOKEN_TTL_SECONDS.
SECRET_NAME_WORDS = re.compile(r"(PASSWORD|PASSWD|PASSPHRASE|TOKEN|API_?KEY|PRIVATE_?KEY|"
                               r"SECRET_?KEY|CLIENT_?SECRET|CREDENTIALS?)$")
# A name that holds the NAME of a secret (or its prefix), not its value.
REFERENCE_NAME = re.compile(r"(_SECRET|_SECRET_PREFIX|_SECRET_ARN|_SECRET_NAME)$")
KEY_LIKE = re.compile(r"[A-Za-z0-9+/=_-]{24,}")
MIN_KEY_ENTROPY_BITS = 3.5  # bits per character; English words and ids stay well below


@dataclass(frozen=True)
class Finding:
    """A variable of a function's environment holding a credential in plain text, and what kind
    (never the value itself).
    """
    variable: str
    reason: str

    def describe(self) -> str:
        """One report line: `<VARIABLE> holds <reason>` (the value is never quoted)."""
        return f"{self.variable} holds {self.reason}"


def entropy_bits(text: str) -> float:
    """The Shannon entropy of `text`'s characters, in bits per character (0 for one repeated
    character; log2 of the alphabet size at most). 0 for an empty text too.
    """
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_like_generated_key(value: str) -> bool:
    """One token of base64/hex characters, long, mixing letters and digits, random-spread."""
    if not KEY_LIKE.fullmatch(value):
        return False
    has_letters = any(c.isalpha() for c in value)
    has_digits = any(c.isdigit() for c in value)
    return has_letters and has_digits and entropy_bits(value) >= MIN_KEY_ENTROPY_BITS


def password_in_url(value: str) -> bool:
    """Whether `value` is a URL whose user information carries a password
    (`scheme://user:password@host`); False for a malformed URL.
    """
    if "://" not in value:
        return False
    try:
        return bool(urlsplit(value).password)
    except ValueError:
        return False


def reason_for(variable: str, value: str) -> str | None:
    """Why this variable's value is a plaintext credential; None when it is not one."""
    if not value:
        return None
    if password_in_url(value):
        return "a password in a URL"
    if PEM.search(value):
        return "a PEM key"
    if JWT.search(value):
        return "a JSON Web Token"
    if AWS_ACCESS_KEY.search(value):
        return "an AWS access key id"
    if REFERENCE_NAME.search(variable.upper()):
        return None
    if SECRET_NAME_WORDS.search(variable.upper()):
        return "a value its name calls secret"
    if looks_like_generated_key(value):
        return "a value that looks like a generated key"
    return None


def plaintext_credentials(environment: Mapping[str, str]) -> list[Finding]:
    """Every variable holding a credential in plain text, sorted by name."""
    found = []
    for variable in sorted(environment):
        reason = reason_for(variable, environment[variable])
        if reason is not None:
            found.append(Finding(variable, reason))
    return found
