"""Which characters a text field may hold: no control, line-separator or bidi-override ones.

A name with CR/LF becomes forged lines in a text email or a log; NUL cannot be stored in
PostgreSQL text at all; a lone surrogate cannot be encoded as UTF-8; a right-to-left
override makes text read differently from what it holds ("Trojan Source",
CVE-2021-42574). Refused, by Unicode general category
(https://www.unicode.org/reports/tr44/#General_Category_Values):

- Cc, control characters: U+0000-U+001F and U+007F-U+009F (CR, LF, TAB, NUL, ESC…);
- Cs, surrogates (only lone ones reach Python: JSON's "\\ud800");
- Zl and Zp, U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR;
- of Cf (format characters) only the bidirectional controls (Unicode's UAX #9). The rest
  of Cf stays allowed inside text: ZERO WIDTH JOINER builds emoji sequences and ZERO
  WIDTH NON-JOINER is part of Persian spelling. Text made only of format characters
  (SOFT HYPHEN, ZERO WIDTH NO-BREAK SPACE, tag characters…) shows nothing and is refused.

Also refused: U+FFFD REPLACEMENT CHARACTER. API Gateway decodes a body that is not UTF-8
with replacement characters before the function sees it, so text sent in Latin-1 would
be stored with U+FFFD in place of what was sent ('Ren\xe9' as 'Ren\ufffd'); refusing it
tells the client to send UTF-8.
"""

from __future__ import annotations

import unicodedata

REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
REPLACEMENT_CHARACTER = "\ufffd"
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_SHORT_NAMES = {"\x00": "NUL", "\t": "TAB", "\n": "LF", "\r": "CR", "\x1b": "ESC"}


def describe(char: str) -> str:
    """A character for a message: `U+XXXX` and its short or Unicode name, e.g. "U+000A LF"."""
    name = _SHORT_NAMES.get(char) or unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def forbidden_character(text: str) -> str | None:
    """None when `text` may be stored and shown; else what is wrong, naming the character."""
    if text.isascii() and text.isprintable():
        return None  # the common case, without a per-character look-up
    visible = False
    for char in text:
        category = unicodedata.category(char)
        if char in BIDI_CONTROLS or category in REFUSED_CATEGORIES:
            return f"must not contain control characters ({describe(char)})"
        if char == REPLACEMENT_CHARACTER:
            return (f"must not contain {describe(char)}: the text was not sent as UTF-8 "
                    "or holds an undecodable character")
        visible = visible or (category != "Cf" and not char.isspace())
    if text and not visible and not text.isspace():
        return "must contain a visible character, not only format characters"
    return None


def check_text(text: str) -> str:
    """`text` unchanged, or ValueError naming its first forbidden character (for validators)."""
    problem = forbidden_character(text)
    if problem:
        raise ValueError(problem)
    return text
