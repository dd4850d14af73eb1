"""The saga's decisions: what to do with a reservation after each kind of answer."""

from __future__ import annotations

import pytest

from tests.support.functions import function_module

saga = function_module("product", "saga")


def test_an_order_that_exists_confirms_the_reservation() -> None:
    assert saga.after_create_call(saga.Created({"id": "1"})) is saga.Step.CONFIRM
    assert saga.after_void(order_exists=True) is saga.Step.CONFIRM


def test_only_a_definite_refusal_restocks() -> None:
    assert saga.after_create_call(saga.Refused("no such user")) is saga.Step.RESTOCK
    assert saga.after_void(order_exists=False) is saga.Step.RESTOCK


def test_an_unknown_outcome_never_restocks() -> None:
    assert saga.after_create_call(saga.Unanswered("timed out")) is saga.Step.SETTLE_LATER


@pytest.mark.parametrize(("status", "replay"), [
    ("confirmed", "STORED_RESPONSE"), ("cancelled", "STORED_RESPONSE"), ("pending", "CALL_AGAIN"),
])
def test_a_replay_repeats_a_settled_answer_or_the_safe_call(status: str, replay: str) -> None:
    assert saga.on_replay(status) is saga.Replay[replay]


def test_an_unknown_status_is_a_bug_not_a_guess() -> None:
    with pytest.raises(ValueError):
        saga.on_replay("lost")
