"""What the user service's `create_superadmin` task answers, as one structured value: the
task builds it, and the `shop` command and the compose set-up read its outcome instead of
parsing its sentence.

Over the task runner (`python -m shop_local.stack.task`) it travels as the JSON object
`{"outcome": "<outcome>", "email": "<canonical address>", "says": "<sentence to print>"}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum


class SuperadminOutcome(StrEnum):
    """What became of the account; in no case is an existing account's role or password
    changed.
    """

    CREATED = "created"  # a new superadmin, with the password given
    EXISTS = "exists"  # a superadmin with that address and that password was already there
    # A superadmin with another password; left as it is. (An outcome, not a secret.)
    OTHER_PASSWORD = "other-password"  # noqa: S105
    OTHER_ROLE = "other-role"  # an account of another role (an enduser); left as it is


@dataclass(frozen=True)
class SuperadminAnswer:
    """The outcome, the account's canonical address and a sentence saying both."""

    outcome: SuperadminOutcome
    email: str
    says: str

    def to_json(self) -> str:
        """The answer as the task runner prints it (module doc)."""
        return json.dumps({"outcome": self.outcome.value, "email": self.email,
                           "says": self.says})

    @classmethod
    def from_json(cls, text: str) -> SuperadminAnswer:
        """Parse what `to_json` wrote. ValueError when `text` is not such an object (a JSON
        error, a missing or non-text member, an unknown outcome).
        """
        match json.loads(text):
            case {"outcome": str(outcome), "email": str(email), "says": str(says)}:
                return cls(SuperadminOutcome(outcome), email, says)
        raise ValueError(f"not a superadmin answer: {text!r}")
