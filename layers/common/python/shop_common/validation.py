"""Request-body validation: JSON in, a typed model out, or a 4xx problem naming each bad field."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from shop_common.errors import FieldError, bad_request, validation_failed

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_BODY_BYTES = 64 * 1024


class StrictBody(BaseModel):
    """Base for request bodies: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        # PostgreSQL cannot store U+0000 in text: let through, it fails the INSERT (a 500)
        # or, in a lookup, the whole query. Refused here, it is a 422 naming the field.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL (U+0000) characters")
        return value


def field_errors(exc: ValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"]) or "body"
        message = "unknown field" if error["type"] == "extra_forbidden" else error["msg"]
        errors.append(FieldError(location, message))
    return errors


def parse_json(raw_body: bytes | str | None) -> Any:
    if isinstance(raw_body, str):
        raw_body = raw_body.encode()
    if not raw_body:
        raise bad_request("the request body must be a JSON object", slug="malformed-json")
    if len(raw_body) > MAX_BODY_BYTES:
        raise bad_request(f"the request body exceeds {MAX_BODY_BYTES} bytes", slug="too-large")
    try:
        return json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"malformed JSON: {exc}", slug="malformed-json") from None
    except RecursionError:
        # `[[[[…` nested a few thousand deep fits in MAX_BODY_BYTES and exhausts the stack.
        raise bad_request("the JSON is nested too deeply", slug="malformed-json") from None


def parse_body(raw_body: bytes | str | None, model: type[ModelT]) -> ModelT:
    data = parse_json(raw_body)
    if not isinstance(data, dict):
        raise bad_request("the request body must be a JSON object", slug="malformed-json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_failed(field_errors(exc)) from None
