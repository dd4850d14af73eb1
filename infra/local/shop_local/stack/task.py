"""Runs one function of a service's `chalicelib.tasks` in a process of its own.

`python -m shop_local.stack.task user create_superadmin '{"email": ...}'`. A process per
call, because two services' `chalicelib` packages cannot share an interpreter.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

from shop_common.setting_values import SettingsError
from shop_common.superadmin_answer import SuperadminAnswer
from shop_local.apps import function_dir

# The child's exit status when the task refused its arguments (a pydantic ValidationError).
REFUSED_ARGUMENTS = 2
# ... and when the service's settings are not valid (a SettingsError, said on stderr).
REFUSED_SETTINGS = 3


class ArgumentsRefused(RuntimeError):
    """The task refused its arguments; the message has one line per wrong field,
    `<field>: <why>`.
    """


def run_task(service: str, function: str, arguments: dict[str, object]) -> str:
    """Run the task in a child process and return what it printed. ArgumentsRefused when the
    task refused its arguments, SettingsError (its message) when the service's settings are
    not valid, RuntimeError (with the child's traceback) when it failed.
    """
    result = subprocess.run(
        [sys.executable, "-m", "shop_local.stack.task", service, function, json.dumps(arguments)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    if result.returncode == REFUSED_ARGUMENTS:
        raise ArgumentsRefused(result.stderr.strip())
    if result.returncode == REFUSED_SETTINGS:
        raise SettingsError(result.stderr.strip())
    if result.returncode != 0:
        raise RuntimeError(f"{service}.{function} failed:\n{result.stderr.strip()}")
    return result.stdout.strip()


def read_superadmin_answer(printed: str) -> SuperadminAnswer:
    """What the user service's `create_superadmin` task printed, read back. RuntimeError when
    it is not a SuperadminAnswer (a task of another version, or one that printed more).
    """
    try:
        return SuperadminAnswer.from_json(printed)
    except ValueError:
        raise RuntimeError(f"user.create_superadmin answered {printed!r}, not an outcome the "
                           "shop knows") from None


def main(argv: list[str]) -> int:
    """The child's side of `run_task`: argv is [service, function, JSON object of keyword
    arguments]; imports `functions/<service>/chalicelib/tasks.py` from that folder, calls the
    function and prints its result. Returns 0, or REFUSED_ARGUMENTS after printing one line per
    wrong field to stderr when the task raised a pydantic ValidationError, or REFUSED_SETTINGS
    after printing a SettingsError's message there; any other exception
    (an unknown function, a missing argument, the task's own error) ends the process with a
    traceback, which `run_task` turns into a RuntimeError.
    """
    from pydantic import ValidationError

    service, function, arguments = argv[0], argv[1], json.loads(argv[2] if len(argv) > 2 else "{}")
    os.chdir(function_dir(service))
    sys.path.insert(0, str(function_dir(service)))
    tasks = importlib.import_module("chalicelib.tasks")
    try:
        print(getattr(tasks, function)(**arguments))
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return REFUSED_SETTINGS
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            field = ".".join(str(part) for part in error["loc"]) or "arguments"
            why = error["msg"].removeprefix("Value error, ")  # pydantic's wrapper of a ValueError
            print(f"{field}: {why}", file=sys.stderr)
        return REFUSED_ARGUMENTS
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
