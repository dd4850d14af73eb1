"""A template process for one app's execution environments (`SHOP_LAMBDA_START=fork`).

    python -m shop_local.runtime.environment_template <handler>   (cwd: the task root)

Imports what the handler's module imports, then forgets the app's own modules (those
under the task root: `app`, `chalicelib`, ...) so that each environment imports them
again itself, and freezes the garbage collector's view of what is left (shared pages
stay shared). Then, on the control socket the Lambda service passed in
`SHOP_LAMBDA_TEMPLATE_FD`, each SPAWN message (the environment's variables and working
folder, with its transport socket and output pipe attached) forks an environment that
runs `lambda_bootstrap` like a freshly started one. The template reaps its children
and reports each exit (`pid returncode`). It must stay single-threaded: it forks.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import selectors
import signal
import socket
import sys
import time
from pathlib import Path

from shop_local.runtime import lambda_bootstrap, lambda_wire
from shop_local.runtime.launchers import (
    READY,
    SPAWN,
    SPAWNED,
    code_under,
    pack_exit,
    unpack_fds,
)

MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def preload(handler: str, task_root: Path) -> None:
    """Import the handler's module and keep only what lies outside the task root."""
    module_name = handler.rsplit(".", 1)[0].replace("/", ".")
    try:
        importlib.import_module(module_name)
    except BaseException as exc:
        print(f"environment template: {module_name} not preloaded: {exc!r}", file=sys.stderr)
    for name, module in list(sys.modules.items()):
        if name == module_name or code_under(getattr(module, "__file__", None), task_root):
            del sys.modules[name]
    importlib.invalidate_caches()


def become_environment(message: dict[str, object], socket_fd: int, output_fd: int,
                       template_pid: int) -> None:
    """In the forked child: take the environment's variables, folder and streams, then run."""
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    environment = dict(message["environment"])  # type: ignore[call-overload]
    environment[lambda_bootstrap.SOCKET_FD_VARIABLE] = str(socket_fd)
    environment[lambda_bootstrap.PARENT_PID_VARIABLE] = str(template_pid)
    os.environ.clear()
    os.environ.update(environment)
    time.tzset()
    os.chdir(str(message["cwd"]))
    gc.unfreeze()
    lambda_bootstrap.main()


def exit_code(status: int) -> int:
    """A wait status (`os.waitpid`) as a return code, as `subprocess` reports it.

    The exit status, or minus the signal number for a process a signal killed.
    """
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status)


def serve(control: socket.socket) -> None:
    """Answer the Lambda service on `control` until it hangs up.

    Sends READY, then forks one environment per SPAWN message (answering SPAWNED with its
    pid) and reports each child's exit as EXITED (see `pack_exit`). Never returns in a
    forked child.
    """
    wakeup_read, wakeup_write = os.pipe()
    os.set_blocking(wakeup_read, False)
    os.set_blocking(wakeup_write, False)
    signal.set_wakeup_fd(wakeup_write)
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wakeup_read, selectors.EVENT_READ)
    control.sendall(lambda_wire.frame(READY, ""))
    fd_space = socket.CMSG_SPACE(2 * 4)
    template_pid = os.getpid()
    while True:
        for key, _events in selector.select():
            if key.fileobj == wakeup_read:
                with contextlib.suppress(BlockingIOError):
                    os.read(wakeup_read, 4096)
                reap(control)
                continue
            try:
                data, ancillary, _flags, _address = control.recvmsg(MAX_MESSAGE_BYTES,
                                                                     fd_space)
            except ConnectionError:
                data = b""
            if not data:
                return  # the service is gone
            kind, meta_length, _body = lambda_wire.HEADER.unpack_from(data)
            if kind != SPAWN:
                continue
            message = json.loads(data[lambda_wire.HEADER.size:
                                      lambda_wire.HEADER.size + meta_length])
            socket_fd, output_fd = unpack_fds(ancillary)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                selector.close()
                control.close()
                os.close(wakeup_read)
                os.close(wakeup_write)
                signal.set_wakeup_fd(-1)
                try:
                    become_environment(message, socket_fd, output_fd, template_pid)
                finally:
                    os._exit(0)
            os.close(socket_fd)
            os.close(output_fd)
            control.sendall(lambda_wire.frame(SPAWNED, str(pid)))
            reap(control)


def reap(control: socket.socket) -> None:
    """Collect every child that has exited, without blocking, and report each on `control`."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        control.sendall(pack_exit(pid, exit_code(status)))


def main() -> None:
    """The template's entry point: `python -m shop_local.runtime.environment_template HANDLER`.

    Run in the task root with the control socket's descriptor in `SHOP_LAMBDA_TEMPLATE_FD`
    (KeyError without it). Preloads the handler's libraries, then `serve`s.
    """
    lambda_bootstrap.die_with_parent()  # and so do the environments forked from here
    control = socket.socket(fileno=int(os.environ.pop("SHOP_LAMBDA_TEMPLATE_FD")))
    task_root = Path.cwd().resolve()
    if sys.path[0] != str(task_root):
        sys.path.insert(0, str(task_root))
    preload(sys.argv[1], task_root)
    gc.collect()
    gc.freeze()  # what the template holds is never touched by a child's collections
    serve(control)


if __name__ == "__main__":
    main()
