"""The `create_superadmin` task's answer survives the trip through the task runner's output,
and anything else is refused rather than read as some outcome.
"""

from __future__ import annotations

import pytest

from shop_common.superadmin_answer import SuperadminAnswer, SuperadminOutcome


@pytest.mark.parametrize("outcome", list(SuperadminOutcome))
def test_every_outcome_round_trips(outcome: SuperadminOutcome) -> None:
    answer = SuperadminAnswer(outcome, "root@example.com", f"superadmin root@example.com {outcome}")
    assert SuperadminAnswer.from_json(answer.to_json()) == answer


@pytest.mark.parametrize("text", [
    "superadmin root@example.com created",  # the old sentence-only answer
    "[]",
    '{"outcome": "created", "email": "root@example.com"}',
    '{"outcome": "promoted", "email": "root@example.com", "says": "..."}',
    '{"outcome": "created", "email": 7, "says": "..."}',
])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        SuperadminAnswer.from_json(text)
