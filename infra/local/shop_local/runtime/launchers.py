"""How an execution environment's process is started: a fresh interpreter, or a fork of a template.

- `ExecLauncher` (`SHOP_LAMBDA_START=exec`): `subprocess` runs the environment's command
  (a new Python interpreter, as a Lambda sandbox starts one); its exit is seen through a
  pidfd.
- `ForkLauncher` (`SHOP_LAMBDA_START=fork`, the default for the socket transport): one
  template process per app (`environment_template`) has already imported the libraries
  the app uses (everything the handler's module imports except the app's own code under
  its task root); each environment is forked from it, then imports the app's own code
  (`app.py`, `chalicelib`) with its function's variables, as a cold start does. The
  environments share the libraries' memory pages with the template, and a cold start
  skips importing them. What differs from a fresh interpreter: library module state
  set at import time is the template's (read from the app's shared environment, not
  the function's own variables), and `Init Duration` leaves out the libraries' import.

Both call `on_exit(returncode)` (negative: killed by that signal) once the process is gone.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import os
import socket
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from shop_local.runtime import lambda_wire

ExitCallback = Callable[[int], None]
PARENT_PID_VARIABLE = "SHOP_LAMBDA_PARENT_PID"  # read by lambda_bootstrap.die_with_parent
TEMPLATE_START_SECONDS = 120.0


@dataclass(frozen=True)
class LaunchRequest:
    """One process to start: `pass_fds` are inherited; stdout and stderr go to `output_fd`."""

    command: list[str]
    cwd: str
    environment: dict[str, str]
    pass_fds: tuple[int, ...]
    output_fd: int
    handler: str
    socket_fd: int = -1  # the fast transport's end, for a forked environment


class Launcher(Protocol):
    """Starts the processes of execution environments; `on_exit` gets each one's exit code."""

    async def launch(self, request: LaunchRequest, on_exit: ExitCallback) -> int:
        """Start the process and return its pid (it leads a session of its own)."""
        ...

    async def close(self) -> None:
        """Release what the launcher holds.

        `ForkLauncher` stops its template, and with it the environments forked from it.
        """


class ExecLauncher:
    """A new interpreter per environment (see the module doc)."""

    async def launch(self, request: LaunchRequest, on_exit: ExitCallback) -> int:
        """Start `request.command` in a new session and return its pid.

        Its output goes to `request.output_fd`; its exit is watched through a pidfd. Raises
        OSError when it cannot be started.
        """
        process = subprocess.Popen(
            request.command, cwd=request.cwd,
            env={**request.environment, PARENT_PID_VARIABLE: str(os.getpid())},
            pass_fds=request.pass_fds, stdin=subprocess.DEVNULL, stdout=request.output_fd,
            stderr=request.output_fd, start_new_session=True,
        )
        loop = asyncio.get_running_loop()
        pidfd = os.pidfd_open(process.pid)

        def exited() -> None:
            loop.remove_reader(pidfd)
            os.close(pidfd)
            on_exit(process.wait())

        loop.add_reader(pidfd, exited)
        return process.pid

    async def close(self) -> None:
        """Nothing to release: every process is its own."""
        return None


# --- the fork template, seen from the service ----------------------------------------

SPAWN = 1  # service -> template: meta = JSON {cwd, environment, handler}, fds attached
SPAWNED = 2  # template -> service: meta = pid
EXITED = 3  # template -> service: meta = "pid returncode"
READY = 4  # template -> service: the libraries are imported


@dataclass
class _Template:
    """One running template process and what waits on it."""

    process: subprocess.Popen[bytes]
    control: socket.socket
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    spawned: asyncio.Queue[int] = field(default_factory=asyncio.Queue)
    exits: dict[int, ExitCallback] = field(default_factory=dict)
    early_exits: dict[int, int] = field(default_factory=dict)
    ready: asyncio.Future[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    listener: asyncio.Task[None] | None = None


class ForkLauncher:
    """Environments forked from a per-app template process (see the module doc).

    `template_environment` is the app's shared environment (the stack's settings and
    the app-wide Chalice variables), in which the template imports the libraries.
    """

    def __init__(self, code_dir: str, handler: str, template_environment: dict[str, str],
                 output_fd: int | None = None) -> None:
        self._code_dir = code_dir
        self._handler = handler
        self._environment = template_environment
        self._output_fd = output_fd
        self._template: _Template | None = None
        self._starting: asyncio.Lock | None = None

    async def prepare(self) -> None:
        """Start the template ahead of the first cold start (a failure waits for that)."""
        with contextlib.suppress(Exception):
            await self._ensure_template()

    async def _ensure_template(self) -> _Template:
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            template = self._template
            if template is not None and template.process.poll() is None:
                return template
            self._template = template = await self._start_template()
            return template

    async def _start_template(self) -> _Template:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        fd = theirs.fileno()
        process = subprocess.Popen(
            [sys.executable, "-m", "shop_local.runtime.environment_template", self._handler],
            cwd=self._code_dir, env={**self._environment, "SHOP_LAMBDA_TEMPLATE_FD": str(fd),
                                     PARENT_PID_VARIABLE: str(os.getpid())},
            pass_fds=(fd,), stdin=subprocess.DEVNULL,
            stdout=self._output_fd, stderr=self._output_fd, start_new_session=True,
        )
        theirs.close()
        ours.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        loop = asyncio.get_running_loop()
        template = _Template(process, ours, reader, writer, ready=loop.create_future())
        template.listener = loop.create_task(self._listen(template))
        assert template.ready is not None
        await asyncio.wait_for(asyncio.shield(template.ready), TEMPLATE_START_SECONDS)
        return template

    async def _listen(self, template: _Template) -> None:
        try:
            while True:
                header = await template.reader.readexactly(lambda_wire.HEADER.size)
                kind, meta_length, body_length = lambda_wire.HEADER.unpack(header)
                meta = (await template.reader.readexactly(meta_length)).decode()
                if body_length:
                    await template.reader.readexactly(body_length)
                if kind == READY and template.ready is not None and not template.ready.done():
                    template.ready.set_result(None)
                elif kind == SPAWNED:
                    template.spawned.put_nowait(int(meta))
                elif kind == EXITED:
                    pid, returncode = (int(part) for part in meta.split())
                    callback = template.exits.pop(pid, None)
                    if callback is None:
                        template.early_exits[pid] = returncode
                    else:
                        callback(returncode)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            # The template is gone: its children are orphans now; report them as killed.
            for pid, callback in list(template.exits.items()):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, 9)
                callback(-9)
            template.exits.clear()
            if template.ready is not None and not template.ready.done():
                template.ready.set_exception(RuntimeError(
                    "the environment template exited while importing the app's libraries"))
                template.ready.exception()

    async def launch(self, request: LaunchRequest, on_exit: ExitCallback) -> int:
        """Fork an environment from the app's template (started first if needed); return its pid.

        Raises TimeoutError when the template does not start or answer within 120 s
        (`TEMPLATE_START_SECONDS`), RuntimeError when it exits while importing the libraries.
        """
        template = await self._ensure_template()
        message = json.dumps({"cwd": request.cwd, "environment": request.environment,
                              "handler": request.handler})
        fds = array.array("i", [request.socket_fd, request.output_fd])
        async with template.lock:  # one spawn at a time: answers come back in order
            frame = lambda_wire.frame(SPAWN, message)
            # Straight on the socket: the stream only reads, and a SPAWN is small.
            template.control.sendmsg([frame], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                                fds.tobytes())])
            pid = await asyncio.wait_for(template.spawned.get(), TEMPLATE_START_SECONDS)
        if pid in template.early_exits:
            on_exit(template.early_exits.pop(pid))
        else:
            template.exits[pid] = on_exit
        return pid

    async def close(self) -> None:
        """Kill the template (SIGKILL) and wait for it.

        The environments forked from it that are still running (each in a session of its
        own) are then killed too, and report -9 to their `on_exit`.
        """
        template, self._template = self._template, None
        if template is None:
            return
        template.writer.close()
        if template.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(template.process.pid, 9)
        await asyncio.to_thread(template.process.wait)
        if template.listener is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await template.listener


def pack_exit(pid: int, returncode: int) -> bytes:
    """The EXITED frame the template sends for a child: meta `"<pid> <returncode>"`."""
    return lambda_wire.frame(EXITED, f"{pid} {returncode}")


def unpack_fds(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    """The file descriptors passed with SCM_RIGHTS in a `recvmsg` ancillary list, in order."""
    fds: list[int] = []
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.extend(struct.unpack(f"{len(data) // 4}i", data[:len(data) - len(data) % 4]))
    return fds


def code_under(path: str | None, root: Path) -> bool:
    """Whether a module file belongs to the app's own code (under its task root)."""
    if not path:
        return False
    try:
        return Path(path).resolve().is_relative_to(root)
    except (OSError, ValueError):
        return False
