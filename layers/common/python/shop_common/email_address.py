"""The one canonical form of an email address, so one person is one account.

`canonical_email` is used wherever an address is stored, looked up or compared
(sign-up, login, admin creation, the superadmin task, event consumers): two spellings
that reach the same mailbox in practice give the same string.

1. NFKC (Unicode Standard Annex #15): compatibility forms fold into their plain ones,
   so a full-width `fw@example.com` (U+FF46, U+FF20…) is the ASCII one, and the NFD
   and NFC spellings of `é` are one.
2. Syntax, by the email-validator library (RFC 5322 / RFC 6531), without a DNS look-up.
3. The domain in its ASCII (IDNA 2008, "punycode") form, lower-cased:
   `bücher.example` and `xn--bcher-kva.example` are one domain (RFC 5890).
4. The local part case-folded (Unicode's full case folding, then NFKC again), so
   `Ann@` and `ann@` are one account. RFC 5321 lets a server treat local parts as
   case-sensitive; in practice none does, and two accounts for one inbox are worse.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field

from shop_common.text import check_text

MAX_EMAIL_LENGTH = 254  # RFC 5321 §4.5.3.1.3, a path of 256 less its angle brackets


def _fold(local_part: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", local_part).casefold())


def canonical_email(text: str) -> str:
    """The canonical form of `text`; ValueError (its message fit for a user) when invalid."""
    check_text(text)
    try:
        checked = validate_email(unicodedata.normalize("NFKC", text).strip(),
                                 check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    address = f"{_fold(checked.local_part)}@{checked.ascii_domain.lower()}"
    if len(address) > MAX_EMAIL_LENGTH:
        raise ValueError(f"must be at most {MAX_EMAIL_LENGTH} characters")
    return address


# A request or event field holding an address, validated and made canonical.
CanonicalEmail = Annotated[str, Field(min_length=3, max_length=MAX_EMAIL_LENGTH * 2),
                           AfterValidator(canonical_email)]
