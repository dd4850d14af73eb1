"""Request bodies: typed on success, a problem naming each bad field otherwise."""

from __future__ import annotations

import json
import tracemalloc
from decimal import Decimal

import pytest
from pydantic import Field, ValidationError

from shop_common.errors import Problem
from shop_common.validation import (
    MAX_BODY_BYTES,
    MAX_REPORTED_FIELDS,
    StrictBody,
    loads_exact,
    parse_body,
    parse_json,
)


class Pet(StrictBody):
    name: str = Field(min_length=1)
    legs: int = Field(ge=0)


def raw(body: object) -> bytes:
    return json.dumps(body).encode()


def problem_of(raw_body: bytes | None) -> Problem:
    with pytest.raises(Problem) as error:
        parse_body(raw_body, Pet)
    return error.value


def test_can_parse_a_valid_body() -> None:
    pet = parse_body(raw({"name": "  Rex ", "legs": 4}), Pet)
    assert pet == Pet(name="Rex", legs=4)


def test_unknown_field_is_a_422_naming_it() -> None:
    problem = problem_of(raw({"name": "Rex", "legs": 4, "role": "superadmin"}))
    assert problem.status == 422
    assert [(e.field, e.message) for e in problem.errors] == [("role", "unknown field")]
    assert "role" in problem.detail


def test_every_bad_field_is_listed() -> None:
    problem = problem_of(raw({"name": "", "legs": -1, "extra": 1}))
    assert problem.status == 422
    assert {e.field for e in problem.errors} == {"name", "legs", "extra"}
    body = problem.to_dict()
    assert {e["field"] for e in body["errors"]} == {"name", "legs", "extra"}


def test_missing_fields_are_listed() -> None:
    assert {e.field for e in problem_of(raw({})).errors} == {"name", "legs"}


@pytest.mark.parametrize("body", [b"{not json", b"", None, b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_malformed_json_is_a_400(body: bytes | None) -> None:
    problem = problem_of(body)
    assert problem.status == 400
    assert problem.type.endswith("malformed-json")


def test_oversized_body_is_a_413_saying_the_limit() -> None:
    # It was a 400, which the API reference described only as "not a JSON object".
    body = raw({"name": "x" * MAX_BODY_BYTES, "legs": 1})
    problem = problem_of(body)
    assert problem.status == 413 and problem.type.endswith("payload-too-large")
    assert problem.detail == (f"the request body is {len(body)} bytes, over the 65536 (64 KiB) "
                              "a JSON body may have")
    at_the_limit = b'{"name": "' + b"x" * (MAX_BODY_BYTES - 12) + b'"}'
    assert len(at_the_limit) == MAX_BODY_BYTES and parse_json(at_the_limit)["name"][0] == "x"


TOO_LONG = "a number longer than 4300 characters"
OUT_OF_RANGE = "a number whose exponent is beyond ±1000"


@pytest.mark.parametrize(("number", "said"), [
    # It was a 400 that said a number was too long but not which.
    ("1" * 4301, TOO_LONG), ("-" + "9" * 5000 + ".5", TOO_LONG), ("1" * 60_000, TOO_LONG),
    # 1E+99999999999999999999999 was a 500 (decimal.InvalidOperation) on any body route;
    # 1e999999999 would make an integer field a billion-digit int.
    ("1E+99999999999999999999999", OUT_OF_RANGE), ("-1E-99999999999999999999", OUT_OF_RANGE),
    ("1e1001", OUT_OF_RANGE), ("1e-1001", OUT_OF_RANGE), ("0e2000", OUT_OF_RANGE),
    ("7.5e999999999", OUT_OF_RANGE),
])
def test_a_number_that_is_not_read_is_a_422_naming_its_field(number: str, said: str) -> None:
    problem = problem_of(f'{{"name": "Rex", "legs": {number}}}'.encode())
    assert problem.status == 422
    assert [(e.field, e.message) for e in problem.errors] == [("legs", said)]


def test_every_over_long_number_is_named_where_it_is_with_the_other_bad_fields() -> None:
    long = "7" * 4301
    problem = problem_of(f'{{"name": "Re\\u0000x", "legs": 4, "tags": [1, {{"n": {long}}}], '
                         f'"age": {long}}}'.encode())
    assert problem.status == 422
    assert [(e.field, e.message) for e in problem.errors] == [
        ("age", "a number longer than 4300 characters"),  # said once, not also "unknown"
        ("tags.1.n", "a number longer than 4300 characters"),
        ("name", "must not contain control characters (U+0000 NUL)"),
        ("tags", "unknown field"),
    ]
    with pytest.raises(Problem) as error:
        parse_json(long.encode())
    assert [e.field for e in error.value.errors] == ["body"]


@pytest.mark.parametrize("body", ["[{long}]", "{long}"])
def test_an_over_long_number_outside_an_object_is_the_usual_400(body: str) -> None:
    problem = problem_of(body.format(long="1" * 4301).encode())
    assert problem.status == 400 and problem.detail == "the request body must be a JSON object"


@pytest.mark.parametrize(("body", "said"), [
    ('{"legs": LONG, "name": }', "Expecting value"),
    ('{"legs": 1, "legs": LONG}', "the name 'legs' appears twice in one object"),
    ('{"legs": LONG, "name": NaN}', "NaN is not a JSON number"),
])
def test_an_over_long_number_in_a_body_malformed_otherwise_is_a_400_saying_how(
        body: str, said: str) -> None:
    problem = problem_of(body.replace("LONG", "1" * 4301).encode())
    assert problem.status == 400 and problem.type.endswith("malformed-json")
    assert problem.detail.startswith("malformed JSON: ") and said in problem.detail


def test_a_body_of_thousands_of_values_under_one_long_name_stays_small() -> None:
    # 61 KB: `{"<30 KB name>": [0, 0, …, 7…7]}` wrote the name into the path of each of the
    # 15,000 values while looking for the over-long number: 420 MB and 1.3 s. Only the
    # places reported are written out now, and at most MAX_REPORTED_FIELDS of them.
    name = "k" * 30_000
    body = ('{"' + name + '": [' + "0," * 13_000 + "7" * 4301 + "]}").encode()
    bad_texts = ('{"' + name + '": [' + '"\\u0000",' * 3_000 + "0]}").encode()
    assert len(body) <= MAX_BODY_BYTES and len(bad_texts) <= MAX_BODY_BYTES
    tracemalloc.start()
    try:
        long_number = problem_of(body)
        control_characters = problem_of(bad_texts)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (f"{name}.13000", "a number longer than 4300 characters") in [
        (e.field, e.message) for e in long_number.errors]
    assert len([e for e in control_characters.errors
                if "control characters" in e.message]) == MAX_REPORTED_FIELDS
    assert peak < 20 * 1024 * 1024


def test_exponents_within_range_are_read_exactly() -> None:
    assert loads_exact("[1e1000, 1e-1000, 25E-1]") == [Decimal("1e1000"), Decimal("1e-1000"),
                                                       Decimal("2.5")]


def test_a_number_of_4300_digits_is_still_read_exactly() -> None:
    assert loads_exact("[" + "9" * 4300 + "]") == [int("9" * 4300)]


def test_a_nul_character_is_a_422_naming_the_field() -> None:
    # PostgreSQL cannot store U+0000 in text: it would otherwise be a 500 at the INSERT.
    problem = problem_of(raw({"name": "Re\u0000x", "legs": 4}))
    assert problem.status == 422
    assert [e.field for e in problem.errors] == ["name"]
    assert "NUL" in problem.errors[0].message


@pytest.mark.parametrize(("name", "shown"), [
    ("Ann\r\nBcc: victim@example.com", "U+000D CR"), ("Ann\nB", "U+000A LF"),
    ("tab\there", "U+0009 TAB"), ("esc\u001b[31m", "U+001B ESC"), ("del\u007f", "U+007F"),
    ("c1\u0085", "U+0085"), ("line\u2028sep", "U+2028 LINE SEPARATOR"),
    ("para\u2029sep", "U+2029 PARAGRAPH SEPARATOR"),
    ("admin\u202egnp.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("iso\u2067late", "U+2067 RIGHT-TO-LEFT ISOLATE"),
])
def test_control_characters_are_a_422_naming_field_and_character(name: str, shown: str) -> None:
    problem = problem_of(raw({"name": name, "legs": 4}))
    assert problem.status == 422
    assert [(e.field, e.message) for e in problem.errors] == [
        ("name", f"must not contain control characters ({shown})")]


def test_a_lone_surrogate_is_a_422_naming_the_field() -> None:
    # JSON may spell one ("\ud800"); it cannot be encoded as UTF-8 for the database.
    assert [e.field for e in problem_of(b'{"name": "lone \\ud800", "legs": 4}').errors] == [
        "name"]


def test_a_replacement_character_is_a_422_naming_the_field() -> None:
    # What a Latin-1 'Ren\xe9' becomes once the gateway has decoded the body as UTF-8.
    problem = problem_of('{"name": "Ren\ufffd", "legs": 4}'.encode())
    assert problem.status == 422
    assert [e.field for e in problem.errors] == ["name"]
    assert "U+FFFD" in problem.errors[0].message


@pytest.mark.parametrize("name", [
    "\u00ad", "\ufeff", "\u200b\u200b", "\U000e0041\U000e0064\U000e006d", " \u2060 ",
])
def test_a_name_made_only_of_format_characters_is_a_422_naming_the_field(name: str) -> None:
    problem = problem_of(raw({"name": name, "legs": 4}))
    assert problem.status == 422
    assert [(e.field, e.message) for e in problem.errors] == [
        ("name", "must contain a visible character, not only format characters")]


@pytest.mark.parametrize("name", [
    "Zoë", "王小明", "محمد", "می\u200cخواهم",  # noqa: RUF001 (real names)
    "👩\u200d💻", "O'Brien-Smith", "Ünïcödé ✓",
])
def test_real_names_are_accepted(name: str) -> None:
    assert parse_body(raw({"name": name, "legs": 4}), Pet).name == name


class Tagged(StrictBody):
    tags: list[str]
    legs: int


def test_control_characters_nested_anywhere_in_the_body_are_refused() -> None:
    with pytest.raises(Problem) as error:
        parse_body(raw({"tags": ["ok", "bad\nline"], "legs": 4}), Tagged)
    assert [e.field for e in error.value.errors] == ["tags.1"]
    # A field the model rejects for its type still names the control character elsewhere.
    with pytest.raises(Problem) as error:
        parse_body(raw({"tags": "x", "legs": 4, "extra": {"deep": ["\r"]}}), Tagged)
    assert {e.field for e in error.value.errors} == {"tags", "extra", "extra.deep.0"}


def test_json_numbers_are_read_exactly() -> None:
    assert loads_exact(b'{"price": 9.999999999999999999}') == {
        "price": Decimal("9.999999999999999999")}
    assert loads_exact("[1, 2.50]") == [1, Decimal("2.50")]


@pytest.mark.parametrize("body", [b'{"name": "Rex", "legs": NaN}', b'{"legs": Infinity}',
                                  b'{"legs": -Infinity}'])
def test_nan_and_infinity_are_not_json(body: bytes) -> None:
    problem = problem_of(body)
    assert problem.status == 400 and "not a JSON number" in problem.detail


def test_a_number_where_an_integer_belongs_is_not_rounded() -> None:
    # As a float, 4.000000000000000001 was 4.0, which an int field takes as 4.
    for legs in (b"4.000000000000000001", b"4.5"):
        problem = problem_of(b'{"name": "Rex", "legs": ' + legs + b"}")
        assert {e.field for e in problem.errors} == {"legs"}


def test_a_deeply_nested_value_inside_an_object_is_a_problem_not_a_crash() -> None:
    nested = b'{"name": "Rex", "legs": 4, "x": ' + b"[" * 900 + b"]" * 900 + b"}"
    problem = problem_of(nested)
    assert problem.status in (400, 422)


def test_validation_errors_never_carry_the_value() -> None:
    class Secret(StrictBody):
        password: str = Field(min_length=50)

    with pytest.raises(ValidationError) as error:
        Secret.model_validate({"password": "hunter2-is-short"})
    assert "hunter2" not in str(error.value)


def test_json_nested_too_deep_is_a_400_not_a_crash() -> None:
    nested = b"[" * 30_000 + b"]" * 30_000  # fits in MAX_BODY_BYTES
    assert len(nested) <= MAX_BODY_BYTES
    problem = problem_of(nested)
    assert problem.status == 400 and problem.type.endswith("malformed-json")


@pytest.mark.parametrize("body", [
    b'{"name": "X", "name": "Y", "price": "1.00", "stock": 1}',
    b'{"name": "X", "price": "1.00", "stock": 1, "extra": {"a": 1, "a": 2}}',
])
def test_a_name_given_twice_in_one_object_is_a_400_naming_it(body: bytes) -> None:
    # It was a 201 with the last value: another parser in the path may take the first.
    with pytest.raises(Problem) as refused:
        parse_json(body)
    assert refused.value.status == 400 and refused.value.slug == "malformed-json"
    assert "appears twice" in refused.value.detail
