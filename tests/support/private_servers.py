"""A private PostgreSQL cluster and a private redis-server, for tests that stop or restart them.

The machine's PostgreSQL and Redis are shared by everyone's tests and must never be
stopped; these run from temporary folders on free ports, bound to 127.0.0.1, and are
removed when the test is done. PostgreSQL refuses to run as root, so its files belong
to the `postgres` account and its programs run as that account (`runuser`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from shop_local.probes import port_open, wait_for
from tests.support.stack import free_port, stop_process

START_TIMEOUT_SECONDS = 60


def postgres_bin(program: str) -> str:
    """A program of the newest PostgreSQL installed under /usr/lib/postgresql/*/bin/."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"),
                   key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise RuntimeError(f"no {program} under /usr/lib/postgresql/*/bin/")
    return found[-1]


def as_postgres(*command: str) -> list[str]:
    """Run as the `postgres` account when this process is root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


@dataclass
class PrivatePostgres:
    """`auth` is pg_hba's method for every connection: scram-sha-256 (closed) or trust."""

    auth: str = "scram-sha-256"
    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="shoppg-")))

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "postgres.log"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str, timeout: float = 120) -> None:
        result = subprocess.run(as_postgres(*command), capture_output=True, text=True,
                                timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {result.stdout}{result.stderr}"
                               f"{self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return "\n" + self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def create(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        password_file = self.folder / "pwfile"
        password_file.write_text(self.password + "\n")
        if os.geteuid() == 0:
            os.chown(password_file, pwd.getpwnam("postgres").pw_uid, -1)
        self._run(postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres",
                  f"--pwfile={password_file}", f"--auth={self.auth}", "-E", "UTF8",
                  "--no-instructions")
        password_file.unlink()
        return self

    def start(self) -> None:
        # fsync off: a test cluster need not survive the machine crashing, only the
        # server process, which -m immediate kills; commits stay synchronous.
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c max_connections=200")
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                  "-o", options, "-w", "-t", str(START_TIMEOUT_SECONDS), "start")

    def stop(self, mode: str = "fast") -> None:
        """`mode` as pg_ctl's -m: smart, fast, or immediate (like a crash: no checkpoint)."""
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists() and port_open("127.0.0.1", self.port)

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class PrivateRedis:
    port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="shopredis-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def admin_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.admin_url, socket_timeout=1)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        if not wait_for(answers, START_TIMEOUT_SECONDS, interval=0.1):
            raise RuntimeError("the private redis-server did not start")
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        deadline = time.monotonic() + 10
        while port_open("127.0.0.1", self.port) and time.monotonic() < deadline:
            time.sleep(0.1)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
