"""Request bodies: typed on success, a problem naming each bad field otherwise."""

from __future__ import annotations

import json

import pytest
from pydantic import Field

from shop_common.errors import Problem
from shop_common.validation import MAX_BODY_BYTES, StrictBody, parse_body


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


def test_oversized_body_is_a_400() -> None:
    problem = problem_of(raw({"name": "x" * MAX_BODY_BYTES, "legs": 1}))
    assert problem.status == 400 and problem.type.endswith("too-large")


def test_a_nul_character_is_a_422_naming_the_field() -> None:
    # PostgreSQL cannot store U+0000 in text: it would otherwise be a 500 at the INSERT.
    problem = problem_of(raw({"name": "Re\u0000x", "legs": 4}))
    assert problem.status == 422
    assert [e.field for e in problem.errors] == ["name"]
    assert "NUL" in problem.errors[0].message


def test_json_nested_too_deep_is_a_400_not_a_crash() -> None:
    nested = b"[" * 30_000 + b"]" * 30_000  # fits in MAX_BODY_BYTES
    assert len(nested) <= MAX_BODY_BYTES
    problem = problem_of(nested)
    assert problem.status == 400 and problem.type.endswith("malformed-json")
