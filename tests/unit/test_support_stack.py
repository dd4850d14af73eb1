"""The tests' throw-away stack finds the machine's servers as the stack tooling does."""

from __future__ import annotations

import os
import subprocess
import sys

from shop_local.cli import DEFAULT_REDIS_ADMIN
from shop_local.paths import ROOT


def redis_admin_url_with(environment: dict[str, str]) -> str:
    code = "from tests.support import stack; print(stack.REDIS_ADMIN_URL)"
    env = {k: v for k, v in os.environ.items() if k != "SHOP_REDIS_ADMIN_URL"}
    done = subprocess.run([sys.executable, "-c", code], env={**env, **environment}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_the_redis_admin_url_is_shop_redis_admin_url_when_set() -> None:
    url = "redis://default:s3cret@127.0.0.1:6380/0"
    assert redis_admin_url_with({"SHOP_REDIS_ADMIN_URL": url}) == url


def test_the_redis_admin_url_defaults_to_the_stack_toolings() -> None:
    assert redis_admin_url_with({}) == DEFAULT_REDIS_ADMIN == "redis://127.0.0.1:6379/0"
