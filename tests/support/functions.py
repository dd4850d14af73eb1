"""Import one service's `chalicelib` modules in a test process that may hold another's.

Every function app names its package `chalicelib` (Chalice requires it), so two
services' modules cannot be imported the usual way side by side. This loads a
service's package under that name, hands back the module, and puts back whatever
`chalicelib` was loaded before. Import-time code is side-effect free by design.
"""

from __future__ import annotations

import importlib
import sys
from functools import cache
from types import ModuleType

from shop_local.apps import function_dir


def _chalicelib_modules() -> dict[str, ModuleType]:
    return {name: module for name, module in sys.modules.items()
            if name == "chalicelib" or name.startswith("chalicelib.")}


@cache
def function_module(service: str, module: str) -> ModuleType:
    saved = _chalicelib_modules()
    for name in saved:
        del sys.modules[name]
    path = str(function_dir(service))
    sys.path.insert(0, path)
    try:
        return importlib.import_module(f"chalicelib.{module}")
    finally:
        sys.path.remove(path)
        for name in _chalicelib_modules():
            del sys.modules[name]
        sys.modules.update(saved)
