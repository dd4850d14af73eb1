"""A path id is a UUID in its hyphenated form only, so each resource has one URL."""

from __future__ import annotations

import uuid

import pytest

from shop_common.ids import parse_uuid

ID = uuid.UUID("5b0f3c1e-7d43-4a8e-9c55-1f6a2d9e8b10")


@pytest.mark.parametrize("text", [str(ID), str(ID).upper()])
def test_the_hyphenated_form_is_read_in_either_case(text: str) -> None:
    assert parse_uuid(text) == ID


@pytest.mark.parametrize("text", [
    ID.hex, "{" + str(ID) + "}", ID.urn, f" {ID}", f"{ID}\n", str(ID)[:-1], "",
    str(ID).replace("-", "_"), "\N{ARABIC-INDIC DIGIT FIVE}b0f3c1e-7d43-4a8e-9c55-1f6a2d9e8b10",
])
def test_every_other_spelling_is_no_id(text: str) -> None:
    # uuid.UUID() took the braces, urn:uuid: and the 32 bare digits: DELETE /products/<32
    # digits> deleted the product.
    assert parse_uuid(text) is None
