"""What every section gets: the run's options, a work folder and the shared stack."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.shopstack import BenchStack


@dataclass
class Context:
    workdir: Path
    rounds: int  # interleaved rounds per figure (its median is reported)
    seconds: float  # length of one load run
    _stack: BenchStack | None = None

    @property
    def stack(self) -> BenchStack:
        """The throw-away shop, set up on first use and torn down by `close`."""
        if self._stack is None:
            stack = BenchStack(self.workdir / "stack")
            stack.workdir.mkdir(parents=True, exist_ok=True)
            self._stack = stack
            stack.set_up()
        return self._stack

    def close(self) -> None:
        if self._stack is not None:
            self._stack.tear_down()
