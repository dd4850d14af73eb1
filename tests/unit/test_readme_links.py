"""Every link within the README (`[…](#anchor)`) leads to one of its headings."""

from __future__ import annotations

import re

from shop_local.paths import ROOT

FENCED = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
LOCAL_LINK = re.compile(r"\]\(#([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def test_slug_follows_github() -> None:
    assert slug("What `make run` does") == "what-make-run-does"
    assert slug("What needs root, and what trusts the host") == \
        "what-needs-root-and-what-trusts-the-host"
    assert slug("The local runtime: API Gateway and Lambda") == \
        "the-local-runtime-api-gateway-and-lambda"


def test_every_local_link_has_its_heading() -> None:
    markdown = (ROOT / "README.md").read_text()
    prose = FENCED.sub("", markdown)
    anchors = {slug(h) for h in HEADING.findall(prose)}
    assert sorted(set(LOCAL_LINK.findall(prose)) - anchors) == []
