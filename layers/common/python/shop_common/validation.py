"""Request-body validation: JSON in, a typed model out, or a 4xx problem naming each bad field.

Every service reads its bodies here, so the rules hold everywhere at once: numbers are
read as exact decimals, never floats (`9.999999999999999999` stays that, and is refused
as a price, instead of becoming 10.0); `NaN` and `Infinity`, which are not JSON
(RFC 8259 §6), are malformed; a number longer than MAX_NUMBER_CHARS, or with an exponent
beyond ±MAX_NUMBER_EXPONENT, is a 422 naming its field (never Python's own message about
`sys.set_int_max_str_digits`, nor a 500 from Decimal's context); a body over
MAX_BODY_BYTES is a 413 (RFC 9110 §15.5.14); no string anywhere in a body may hold a
control character (shop_common.text); unknown fields are refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from shop_common.errors import (
    FieldError,
    bad_request,
    content_too_large,
    validation_failed,
)
from shop_common.text import forbidden_character

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_BODY_BYTES = 64 * 1024
# Python's own limit for int(str) (sys.int_info.default_max_str_digits): past it int()
# raises with a message naming interpreter internals. No field needs a number this long.
MAX_NUMBER_CHARS = 4300


# An exponent past this, either way, is refused too: `1e999999999` is short text, but an
# integer field would make it a billion-digit int, and Decimal arithmetic overflows its
# context past ±999999. Far past any amount or count, and inside the 4300 digits above.
MAX_NUMBER_EXPONENT = 1000
TOO_LONG = f"a number longer than {MAX_NUMBER_CHARS} characters"
OUT_OF_RANGE = f"a number whose exponent is beyond ±{MAX_NUMBER_EXPONENT}"


class UnreadableNumber(ValueError):
    """A JSON number this service does not read: its message is TOO_LONG (longer than
    MAX_NUMBER_CHARS characters) or OUT_OF_RANGE (exponent beyond ±MAX_NUMBER_EXPONENT).
    """


class StrictBody(BaseModel):
    """Base for request bodies: unknown fields are an error, never silently dropped."""

    # hide_input_in_errors: a validation error, should it ever be logged, never carries
    # the value (a password) that failed.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              hide_input_in_errors=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        # NUL fails PostgreSQL's INSERT (a 500); CR/LF forge lines in emails and logs.
        problem = forbidden_character(value) if isinstance(value, str) else None
        if problem:
            raise ValueError(problem)
        return value


# Where a value sits in a JSON document: its parent's place and its own key or index
# (None for the document itself). Linked, not joined, so that walking a body costs one
# small tuple per value however long the names above it are: only the places reported
# are ever written out (`_dotted`).
_Place = tuple["_Place | None", str | int]

# At most this many fields are named per kind of fault: a 64 KiB body can hold thousands
# of bad values under one long name, and the answer should not repeat it thousands of times.
MAX_REPORTED_FIELDS = 50


def _leaves(data: Any) -> Iterator[tuple[_Place | None, Any]]:
    """Every value in a JSON value that is not an object or array, with its place. Walked
    with a stack, not recursion: the JSON may be nested as deep as the parser allows.
    """
    pending: list[tuple[_Place | None, Any]] = [(None, data)]
    while pending:
        place, value = pending.pop()
        if isinstance(value, dict):
            pending.extend(((place, key), child) for key, child in value.items())
        elif isinstance(value, list):
            pending.extend(((place, index), child) for index, child in enumerate(value))
        else:
            yield place, value


def _dotted(place: _Place | None) -> str:
    """A place as a dotted path (`items.0.name`), "body" for the document itself."""
    keys: list[str] = []
    while place is not None:
        place, key = place
        keys.append(str(key))
    return ".".join(reversed(keys)) or "body"


def text_errors(data: Any) -> list[FieldError]:
    """A FieldError for every string in a JSON value that holds a forbidden character (at
    most MAX_REPORTED_FIELDS of them).

    Covers what a model's own validators may not see: strings nested in lists and
    objects, and strings a field of another type would have accepted or coerced.
    """
    return _leaf_errors(data, lambda value: forbidden_character(value)
                        if isinstance(value, str) else None)


def _leaf_errors(data: Any, problem_of: Callable[[Any], str | None]) -> list[FieldError]:
    """A FieldError, sorted by field, for each leaf of `data` that `problem_of` finds a
    problem with (at most MAX_REPORTED_FIELDS); a place is written out only when reported.
    """
    found = ((place, problem_of(value)) for place, value in _leaves(data))
    bad = islice(((place, problem) for place, problem in found if problem), MAX_REPORTED_FIELDS)
    return sorted((FieldError(_dotted(place), problem) for place, problem in bad),
                  key=lambda error: error.field)


def field_errors(exc: ValidationError) -> list[FieldError]:
    """One FieldError per pydantic error: its dotted location (or "body") and message."""
    errors = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"]) or "body"
        message = "unknown field" if error["type"] == "extra_forbidden" else error["msg"]
        message = message.removeprefix("Value error, ")  # pydantic's wrapping of our ValueErrors
        errors.append(FieldError(location, message))
    return errors


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not a JSON number")


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise UnreadableNumber(TOO_LONG)
    return int(text)


def _decimal(text: str) -> Decimal:
    if len(text) > MAX_NUMBER_CHARS:
        raise UnreadableNumber(TOO_LONG)
    try:
        number = Decimal(text)
    except InvalidOperation:  # an exponent past what Decimal itself can hold
        raise UnreadableNumber(OUT_OF_RANGE) from None
    if abs(number.adjusted()) > MAX_NUMBER_EXPONENT:
        raise UnreadableNumber(OUT_OF_RANGE)
    return number


@dataclass(frozen=True)
class _Unreadable:
    """Stands in the parsed JSON for a number refused with `why`, so that the answer can
    name where it was (`_unreadable_number_errors`).
    """

    why: str


def _marking(read: Callable[[str], Any]) -> Callable[[str], Any]:
    """`read`, with an UnreadableNumber returned as a marker instead of raised."""
    def read_or_mark(text: str) -> Any:
        try:
            return read(text)
        except UnreadableNumber as exc:
            return _Unreadable(str(exc))
    return read_or_mark


def _unreadable_number_errors(data: Any) -> list[FieldError]:
    return _leaf_errors(data, lambda value: value.why if isinstance(value, _Unreadable)
                        else None)


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 8259 §4: with repeated names "the behavior of software ... is unpredictable";
    # one parser taking the first and another the last is how a check gets bypassed.
    names = dict(pairs)
    if len(names) < len(pairs):  # only then look for which name it was
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise ValueError(f"the name {name!r} appears twice in one object")
            seen.add(name)
    return names


def loads_exact(text: bytes | str) -> Any:
    """`json.loads` with numbers as Decimal and int, never float, and each name once per
    object.

    Raises ValueError for NaN/Infinity or a name repeated within an object (RFC 8259 §4),
    UnreadableNumber (a ValueError) for a number longer than MAX_NUMBER_CHARS or with an
    exponent beyond ±MAX_NUMBER_EXPONENT.
    """
    return _json_loads(text, _int, _decimal)


def _json_loads(text: bytes | str, read_int: Callable[[str], Any],
                read_decimal: Callable[[str], Any]) -> Any:
    return json.loads(text, parse_int=read_int, parse_float=read_decimal,
                      parse_constant=_not_json, object_pairs_hook=_unique_names)


def _loads(raw_body: bytes, mark_unreadable_numbers: bool) -> Any:
    """`loads_exact`, or with unreadable numbers marked instead of refused; 400 problems for
    what is not JSON. UnreadableNumber passes through unless `mark_unreadable_numbers`.
    """
    try:
        if mark_unreadable_numbers:
            return _json_loads(raw_body, _marking(_int), _marking(_decimal))
        return loads_exact(raw_body)
    except UnreadableNumber:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"malformed JSON: {exc}", slug="malformed-json") from None
    except RecursionError:
        # `[[[[…` nested a few thousand deep fits in MAX_BODY_BYTES and exhausts the stack.
        raise bad_request("the JSON is nested too deeply", slug="malformed-json") from None


def _read_json(raw_body: bytes | str | None) -> tuple[Any, list[FieldError]]:
    """The JSON of a request body, numbers exact (Decimal/int), and a FieldError for each
    number in it that is not read (UnreadableNumber; left there as a marker). 413 and
    400 problems as `parse_json` says.
    """
    if isinstance(raw_body, str):
        raw_body = raw_body.encode()
    if not raw_body:
        raise bad_request("the request body must be a JSON object", slug="malformed-json")
    if len(raw_body) > MAX_BODY_BYTES:
        raise content_too_large(f"the request body is {len(raw_body)} bytes, over the "
                                f"{MAX_BODY_BYTES} ({MAX_BODY_BYTES // 1024} KiB) a JSON body "
                                "may have")
    try:
        return _loads(raw_body, mark_unreadable_numbers=False), []
    except UnreadableNumber:
        # Read again, only on this path, to name where each such number is.
        data = _loads(raw_body, mark_unreadable_numbers=True)
        return data, _unreadable_number_errors(data)


def parse_json(raw_body: bytes | str | None) -> Any:
    """The JSON of a request body, numbers exact (Decimal/int).

    Raises a 413 problem for a body over MAX_BODY_BYTES; a 400 for an empty, malformed or too
    deeply nested one; a 422 naming each field that holds a number longer than
    MAX_NUMBER_CHARS or with an exponent beyond ±MAX_NUMBER_EXPONENT.
    """
    data, unreadable_numbers = _read_json(raw_body)
    if unreadable_numbers:
        raise validation_failed(unreadable_numbers)
    return data


def parse_body(raw_body: bytes | str | None, model: type[ModelT]) -> ModelT:
    """The request body validated as `model`.

    Raises the 413 and 400 problems of `parse_json` (and a 400 when the JSON is not an
    object), and a 422 listing every bad field: unknown fields, control characters in text
    and numbers that are not read (too long, or an exponent out of range) included.
    """
    data, errors = _read_json(raw_body)
    if not isinstance(data, dict):
        raise bad_request("the request body must be a JSON object", slug="malformed-json")
    named = {error.field for error in errors}  # an over-long number says only that
    try:
        body: ModelT | None = model.model_validate(data)
    except ValidationError as exc:
        body = None
        errors += [error for error in field_errors(exc) if error.field not in named]
    named |= {error.field for error in errors}
    errors += [error for error in text_errors(data) if error.field not in named]
    if errors or body is None:
        raise validation_failed(errors)
    return body
