"""Every public name of the layer and of the local runtime carries a docstring.

The modules are read with `ast`, not imported, so a module that needs a broker or a
database to import is checked too. A name is public when it does not start with `_`.

Checked, in every module of `shop_common` (layers/common/python) and of
`shop_local.runtime` with its `gateway` package:

- the module itself;
- each public module-level function and class (including those defined under a
  module-level `if` or `try`);
- each public method of a public class (dunder methods such as `__init__` are not public).

Exempt, because something else already documents them:

- methods decorated `@property`, `@cached_property` or `@<name>.setter`: they read as
  attributes, and the class docstring or the attribute's name says what they hold;
- methods decorated `@overload`: the implementation carries the docstring;
- overrides of a framework hook, listed in `HOOKS` by the base class that documents them
  (e.g. `logging.Formatter.format`, `asyncio.Protocol.data_received`), and only in a
  class that names that base directly.

Not exempt: field-only classes (dataclasses, pydantic models, enums, exceptions) need a
class docstring, which is where their fields are described; they have no methods to check.

`ALLOWED_MISSING` lists names whose modules other work owns; each entry must still be
missing (a documented name has to leave the list), so the list can only shrink.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

from shop_local.paths import ROOT

PACKAGES = (
    ROOT / "layers" / "common" / "python" / "shop_common",
    ROOT / "infra" / "local" / "shop_local" / "runtime",
)

# Base class (as the subclass names it, last dotted part) -> the hook methods it documents.
HOOKS: dict[str, frozenset[str]] = {
    "Formatter": frozenset({"format"}),  # logging.Formatter
    "Filter": frozenset({"filter"}),  # logging.Filter
    "Handler": frozenset({"emit", "handle"}),  # logging.Handler
    "QueueHandler": frozenset({"emit", "prepare", "enqueue"}),  # logging.handlers
    "Protocol": frozenset({  # asyncio.Protocol (typing.Protocol defines none of these)
        "connection_made", "connection_lost", "data_received", "eof_received",
        "pause_writing", "resume_writing",
    }),
    "HttpToolsProtocol": frozenset({  # uvicorn's httptools protocol and its parser callbacks
        "connection_made", "connection_lost", "data_received", "eof_received",
        "on_message_begin", "on_url", "on_header", "on_headers_complete", "on_body",
        "on_message_complete", "on_response_complete", "send_400_response",
    }),
    "BaseLambdaRuntimeClient": frozenset({  # awslambdaric's Runtime API client
        "wait_next_invocation", "post_invocation_result", "post_invocation_error",
        "post_init_error",
    }),
    "ConnectionPool": frozenset({"get_connection", "release"}),  # redis-py
    "Server": frozenset({"capture_signals"}),  # uvicorn.Server
}

EXEMPT_DECORATORS = frozenset({"property", "cached_property", "overload"})

# Names allowed to lack a docstring for now (none: keep it that way).
ALLOWED_MISSING: frozenset[str] = frozenset()


def is_public(name: str) -> bool:
    return not name.startswith("_")


def top_level(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of `body`, looking inside `if` and `try` blocks as well."""
    for node in body:
        if isinstance(node, ast.If):
            yield from top_level(node.body)
            yield from top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from top_level(block)
            for handler in node.handlers:
                yield from top_level(handler.body)
        else:
            yield node


def decorator_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        names.add(ast.unparse(target).rsplit(".", 1)[-1])
    return names


def is_exempt_method(cls: ast.ClassDef, method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    if decorator_names(method) & (EXEMPT_DECORATORS | {"setter", "deleter"}):
        return True
    bases = {ast.unparse(base).split("[", 1)[0].rsplit(".", 1)[-1] for base in cls.bases}
    return any(method.name in HOOKS.get(base, frozenset()) for base in bases)


def missing_in(tree: ast.Module) -> Iterator[str]:
    """Each public name in a parsed module that has no docstring, as `def x` or `class X`."""
    if ast.get_docstring(tree) is None:
        yield "module"
    for node in top_level(tree.body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if is_public(node.name) and ast.get_docstring(node) is None:
                yield f"def {node.name}"
        elif isinstance(node, ast.ClassDef) and is_public(node.name):
            if ast.get_docstring(node) is None:
                yield f"class {node.name}"
            for member in top_level(node.body):
                if (isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef)
                        and is_public(member.name)
                        and ast.get_docstring(member) is None
                        and not is_exempt_method(node, member)):
                    yield f"def {node.name}.{member.name}"


def module_files() -> list[Path]:
    files = []
    for package in PACKAGES:
        files += [path for path in sorted(package.rglob("*.py"))
                  if path.name == "__init__.py" or is_public(path.name)]
    return files


def missing_docstrings() -> set[str]:
    missing = set()
    for path in module_files():
        shown = shown_name(path)
        missing |= {f"{shown}: {name}" for name in missing_in(ast.parse(path.read_text()))}
    return missing


def shown_name(path: Path) -> str:
    """`shop_common/x.py` or `runtime/gateway/y.py`: the package folder and below."""
    for package in PACKAGES:
        if path.is_relative_to(package):
            return str(path.relative_to(package.parent))
    raise AssertionError(path)


def test_the_walk_finds_both_packages_and_the_gateway() -> None:
    shown = {shown_name(path) for path in module_files()}
    assert {"shop_common/keys.py", "runtime/catalog.py", "runtime/gateway/app.py"} <= shown


def test_an_undocumented_public_name_is_reported_and_an_exempt_one_is_not() -> None:
    tree = ast.parse(
        '"""A module."""\n'
        "import logging\n"
        "def bare(): pass\n"
        "def _private(): pass\n"
        "class Plain:\n"
        "    def method(self): pass\n"
        "    def __init__(self): pass\n"
        "    @property\n"
        "    def value(self): return 1\n"
        "class Shown(logging.Formatter):\n"
        '    """Documented."""\n'
        "    def format(self, record): return ''\n"
        "    def filter(self, record): return True\n"
    )
    assert set(missing_in(tree)) == {
        "def bare", "class Plain", "def Plain.method", "def Shown.filter"}


def test_every_public_name_has_a_docstring() -> None:
    missing = sorted(missing_docstrings() - ALLOWED_MISSING)
    assert missing == [], "public names without a docstring:\n" + "\n".join(missing)


def test_the_allowlist_names_only_names_still_missing() -> None:
    documented = sorted(ALLOWED_MISSING - missing_docstrings())
    assert documented == [], "documented now; remove from ALLOWED_MISSING:\n" + "\n".join(
        documented)
