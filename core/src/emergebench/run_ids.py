"""What a run id says: ``<spec id>-<start time>-<4 hex>`` (made by ``resume.choose_run``).

Folder-name order is therefore spec order; whatever stores many runs at once (a rebuild, a pull)
takes them in start order instead, the order in which they were stored as each one ended.
"""

from __future__ import annotations

import re

RUN_ID_TIME_FORMAT = "%Y%m%dT%H%M%S"
_STARTED = re.compile(r"-(\d{8}T\d{6})-[0-9a-f]{4}$")


def start_order(run_id: str) -> tuple[str, str]:
    """Sort key putting runs in the order they started (ids of another form first, by name)."""
    found = _STARTED.search(run_id)
    return (found.group(1) if found else "", run_id)
