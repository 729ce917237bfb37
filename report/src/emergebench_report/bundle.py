"""The JavaScript that draws the charts (Vega, Vega-Lite, Vega-Embed), inlined so the page never
fetches a script: built by vl-convert for the Vega-Lite version Altair writes, and cached on disk
because building it takes tens of seconds on a small machine."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import altair as alt
import vl_convert as vlc
from emergebench import paths


def vegalite_version() -> str:
    """Altair's schema version as vl-convert names it ("v6.4.1" -> "6.4"), falling back to its newest."""
    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    known = vlc.get_vegalite_versions()
    return wanted if wanted in known else known[-1]


def bundle_path() -> Path:
    version = f"vl{vegalite_version()}-vega{vlc.get_vega_version()}-embed{vlc.get_vega_embed_version()}"
    return paths.home() / "cache" / f"vega-bundle-{version}-vlconvert{getattr(vlc, '__version__', 'unknown')}.js"


def javascript_bundle() -> str:
    """The bundle text (defines window.vegaEmbed); built once per vl-convert version, then read from disk."""
    path = bundle_path()
    if path.exists():
        return path.read_text(encoding="utf-8")
    # snippet=None is vl-convert's default (window.vegaEmbed etc.); its stub types the argument as required
    text = vlc.javascript_bundle(None, vl_version=vegalite_version())  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".bundle-", suffix=".js")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)  # atomic: a concurrent report never reads half a bundle
    return text
