"""Put on ``PYTHONPATH`` with ``PEAK_RSS_DIR`` set: every Python process started with them writes its own
peak RSS (``VmHWM`` from ``/proc/self/status``, in kB) and its argv to ``PEAK_RSS_DIR/<pid>`` as it exits.

A parent cannot read a child's peak after it exits, and ``ru_maxrss`` of a forked child keeps the
parent's high-water mark (a 500 MB pytest parent makes every child look 500 MB), so the process reports
its own. Used by tests/test_memory_flat.py and benchmarks/cli_runs.py; a process killed by a signal or
leaving through ``os._exit`` writes nothing.
"""

import atexit
import json
import os
import sys


def _write_peak() -> None:
    folder = os.environ.get("PEAK_RSS_DIR")
    if not folder:
        return
    try:
        with open("/proc/self/status") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        with open(os.path.join(folder, str(os.getpid())), "w") as out:
            json.dump({"peak_kb": peak, "argv": sys.argv}, out)
    except (OSError, StopIteration, ValueError):
        pass


if os.environ.get("PEAK_RSS_DIR"):
    atexit.register(_write_peak)
