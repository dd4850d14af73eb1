"""The `shop deploy` subcommand: which of deploy, verify, destroy runs (its arguments are in
deploy/arguments.py)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from shop_local.deploy.emulator import EmbeddedEmulator
from shop_local.deploy.endpoint import Endpoint, answers
from shop_local.deploy.target import DeployTarget
from shop_local.envfile import ensure_env_file, read_env
from shop_local.paths import ENV_EXAMPLE, ENV_FILE
from shop_local.private_files import make_private, private_dir


def say(message: str) -> None:
    """Print `shop: <message>` at once (the deploy's progress lines)."""
    print(f"shop: {message}", flush=True)


def deploy_env() -> dict[str, str]:
    """The local settings the emulated cloud is seeded from (never its signing keys)."""
    explicit = os.environ.get("SHOP_ENV_FILE")
    if explicit is None:
        ensure_env_file(ENV_FILE, ENV_EXAMPLE)  # as `shop up` does on a first run
        env_file: Path | None = ENV_FILE
    else:
        env_file = Path(explicit) if explicit else None  # empty: no file at all
    env = read_env(env_file) if env_file is not None and env_file.is_file() else {}
    env.update({k: v for k, v in os.environ.items() if k.startswith("SHOP_")})
    return env


def keep_private(state_dir: Path) -> None:
    """Everything under the state folder is its owner's alone (0700 folders, 0600 files):
    staged configs, policies, packages, the emulator's log. The umask covers what this
    process and its children (chalice, pip, the emulator) write from now on."""
    os.umask(0o077)
    private_dir(state_dir)
    make_private(state_dir)


def run(args: argparse.Namespace) -> int:
    """`shop deploy`: start the embedded emulator when nothing answers at the endpoint (not for
    --verify or --destroy), then deploy, verify or destroy. Returns 0, or 1 when verify finds
    a difference, destroy leaves something, or the deploy has problems; RuntimeError (a
    failed `chalice deploy`, a template cfn-lint refuses) and botocore errors propagate.
    """
    target = DeployTarget(Endpoint.resolve(args.endpoint), args.stage,
                          args.state_dir.resolve(), args.functions_dir.resolve())
    keep_private(target.state_dir)
    emulator = EmbeddedEmulator(target.endpoint, target.state_dir)
    if args.stop_emulator:
        stopped = emulator.stop()
        say("stopped the embedded emulator" if stopped else "no embedded emulator was running")
        return 0
    if not answers(target.endpoint):
        if args.verify or args.destroy:
            say(f"nothing answers at {target.endpoint.url}: nothing is deployed there")
            return 1 if args.verify else 0
        say(f"nothing answers at {target.endpoint.url}; starting the embedded emulator "
            "(moto's server, no Docker needed) on "
            f"127.0.0.1:{target.endpoint.port}")
        pid = emulator.start()
        say(f"embedded emulator running (pid {pid}, log {emulator.log_file}); "
            "`shop deploy --stop-emulator` stops it")
    env = deploy_env()
    if args.verify:
        from shop_local.deploy.verify import verify

        checked = verify(target, env)
        print(checked.render(), flush=True)
        return 0 if checked.ok else 1
    if args.destroy:
        from shop_local.deploy.destroy import destroy, leftovers

        destroy(target, say)
        left = leftovers(target)
        if left:
            say("still there after destroy: " + ", ".join(left))
            return 1
        say(f"destroyed: nothing of stage {target.stage} is left at {target.endpoint.url}")
        return 0
    from shop_local.deploy.deploy import deploy

    deployed = deploy(target, env, say)
    for gap in deployed.gaps:
        say(f"the emulator cannot hold {gap.describe()}")
    for problem in deployed.problems:
        say(f"problem: {problem}")
    say("deployed; `shop deploy --verify` lists what exists")
    return 1 if deployed.problems else 0
