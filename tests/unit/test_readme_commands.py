"""Every `shop` subcommand and `make` target the README names exists.

The names are read from the README's code: fenced blocks and inline code spans, where
a reader copies commands from. `shop X` is checked against the parser of `shop`
(shop_local.cli), `make X` against the Makefile's targets.
"""

from __future__ import annotations

import argparse
import re

from shop_local import cli
from shop_local.paths import ROOT

FENCED = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")
# Where a command starts: a line (after a `$ ` prompt), or after `&&`, `;`, `|`, `$(`;
# by its bare name or a path (`.venv/bin/shop`). Prose such as "one shop service" in
# a code block, `shop-user` or `shop:` is no command.
COMMAND_START = r"(?:^[ \t]*(?:\$[ \t]+)?|(?:&&|;|\||\$\()[ \t]*)(?:[\w.-]*/)*"
SHOP_COMMAND = re.compile(COMMAND_START + r"shop ([a-z][a-z-]*)", re.MULTILINE)
MAKE_TARGET = re.compile(COMMAND_START + r"make ([a-z][a-z-]*)", re.MULTILINE)
MAKEFILE_TARGET = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)[ \t]*:(?!=)", re.MULTILINE)


def code_in(markdown: str) -> list[str]:
    """The fenced blocks, and every inline code span (in the prose and in those blocks)."""
    blocks = FENCED.findall(markdown)
    prose = FENCED.sub("", markdown)
    return blocks + INLINE.findall(prose) + [s for b in blocks for s in INLINE.findall(b)]


def named(pattern: re.Pattern[str], snippets: list[str]) -> set[str]:
    return {name for snippet in snippets for name in pattern.findall(snippet)}


def shop_subcommands() -> set[str]:
    parser = cli.build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name for action in actions for name in action.choices}


def makefile_targets() -> set[str]:
    return set(MAKEFILE_TARGET.findall((ROOT / "Makefile").read_text()))


def readme_code() -> list[str]:
    return code_in((ROOT / "README.md").read_text())


def test_can_find_commands_in_code_blocks_and_spans() -> None:
    markdown = ("Run `make run`, then `.venv/bin/shop mail 3`; the shop's `shop-user` user.\n"
                "```bash\nshop deploy --verify && make clean\nshop: warning: x\n"
                "  stack/   `shop status`: one shop service process\n```\n")
    snippets = code_in(markdown)
    assert named(SHOP_COMMAND, snippets) == {"mail", "deploy", "status"}
    assert named(MAKE_TARGET, snippets) == {"run", "clean"}


def test_every_shop_command_the_readme_names_exists() -> None:
    named_in_readme = named(SHOP_COMMAND, readme_code())
    assert {"up", "setup", "reset", "mail", "deploy", "serve"} <= named_in_readme
    assert named_in_readme - shop_subcommands() == set()


def test_every_shop_command_is_in_the_readme() -> None:
    assert shop_subcommands() - named(SHOP_COMMAND, readme_code()) == set()


def test_every_make_target_the_readme_names_exists() -> None:
    named_in_readme = named(MAKE_TARGET, readme_code())
    assert {"run", "test", "clean"} <= named_in_readme
    assert named_in_readme - makefile_targets() == set()
