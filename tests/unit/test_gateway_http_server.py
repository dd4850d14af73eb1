"""The HTTP server's transport wrapper: a response's head goes out with its body."""

from __future__ import annotations

import asyncio
from typing import Any

from shop_local.runtime.http_server import LingeringTransport

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def can_write_eof(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


def wrapped() -> tuple[LingeringTransport, RecordingTransport]:
    raw = RecordingTransport()
    return LingeringTransport(raw, asyncio.get_running_loop()), raw  # type: ignore[arg-type]


def run(test: Any) -> None:
    asyncio.run(test())


def test_a_head_and_its_body_are_one_write() -> None:
    async def check() -> None:
        transport, raw = wrapped()
        transport.write(HEAD)
        transport.write(b"ok")
        assert raw.writes == [HEAD + b"ok"]
        await asyncio.sleep(0)
        assert raw.writes == [HEAD + b"ok"]

    run(check)


def test_a_head_whose_body_comes_later_is_sent_at_the_end_of_the_loop_iteration() -> None:
    async def check() -> None:
        transport, raw = wrapped()
        transport.write(HEAD)
        assert raw.writes == []
        await asyncio.sleep(0)
        assert raw.writes == [HEAD]
        transport.write(b"ok")
        assert raw.writes == [HEAD, b"ok"]

    run(check)


def test_closing_sends_a_held_head_first() -> None:
    async def check() -> None:
        transport, raw = wrapped()
        transport.write(HEAD)
        transport.close()
        assert raw.writes == [HEAD] and raw.closed

    run(check)
