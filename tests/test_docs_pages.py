"""The docs hang together: relative links resolve, index links every page, and the plugin directory
lists every first-party plugin."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def pages() -> list[Path]:
    return sorted([*DOCS.glob("*.md"), ROOT / "CONTRIBUTING.md"])


def test_relative_links_resolve() -> None:
    broken = []
    for page in pages():
        for target, _anchor in LINK.findall(page.read_text()):
            if re.match(r"^[a-z]+:", target):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_index_links_every_page() -> None:
    index = (DOCS / "index.md").read_text()
    linked = {t for t, _ in LINK.findall(index)}
    unlinked = [p.name for p in DOCS.glob("*.md") if p.name != "index.md" and p.name not in linked]
    assert not unlinked, f"docs/index.md does not link: {unlinked}"


def test_plugin_directory_lists_every_first_party_plugin() -> None:
    directory = (DOCS / "plugins.md").read_text()
    for pyproject in sorted(ROOT.glob("plugins/*/pyproject.toml")):
        dist = tomllib.loads(pyproject.read_text())["project"]["name"]
        assert f"`{dist}`" in directory, f"docs/plugins.md does not list {dist}"
