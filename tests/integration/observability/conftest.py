"""The observability tests watch the session's throw-away stack."""

from __future__ import annotations

import pytest

from tests.support.stack import ThrowawayStack


@pytest.fixture(scope="package")
def mq_stack(stack: ThrowawayStack) -> ThrowawayStack:
    """The stack the shared mail sink and emulator (tests/integration/conftest.py) serve.

    Package-scoped here, so they stop when this package ends instead of consuming the
    session stack's queues under the other packages' tests.
    """
    return stack
