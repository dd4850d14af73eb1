"""Import one service's `chalicelib` modules (or its app) in a test process that may hold another's.

Every function app names its package `chalicelib` and its module `app` (Chalice
requires it), so two services' modules cannot be imported the usual way side by side.
This loads a service's package under that name, hands back the module, and puts back
whatever `chalicelib` and `app` were loaded before. Import-time code is side-effect free
by design.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from types import ModuleType

from chalice.app import Chalice

from shop_local.apps import function_dir


def _chalicelib_modules() -> dict[str, ModuleType]:
    return {name: module for name, module in sys.modules.items()
            if name == "chalicelib" or name.startswith("chalicelib.")}


@contextmanager
def _own_modules(service: str) -> Iterator[None]:
    saved = _chalicelib_modules()
    saved_app = sys.modules.pop("app", None)
    for name in saved:
        del sys.modules[name]
    path = str(function_dir(service))
    sys.path.insert(0, path)
    try:
        yield
    finally:
        sys.path.remove(path)
        sys.modules.pop("app", None)
        for name in _chalicelib_modules():
            del sys.modules[name]
        sys.modules.update(saved)
        if saved_app is not None:
            sys.modules["app"] = saved_app


@cache
def function_module(service: str, module: str) -> ModuleType:
    with _own_modules(service):
        return importlib.import_module(f"chalicelib.{module}")


@cache
def function_app(service: str) -> Chalice:
    """The service's Chalice app object, as `chalice local` and `chalice package` load it."""
    with _own_modules(service):
        app = importlib.import_module("app").app
    assert isinstance(app, Chalice)
    return app
