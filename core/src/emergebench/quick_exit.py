"""Leaving a finished command without the interpreter's teardown.

Python's own exit frees every object and module one by one: ~50 ms after a run (pydantic, httpx, the
task and provider modules), all of it after the last sample and before the shell gets its prompt back
(issue #18). ``exit_now`` first does what a normal exit does that anyone can see (joins non-daemon
threads, runs atexit handlers, flushes stdout and stderr), then ends the process with ``os._exit``.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Exit with ``code`` as ``sys.exit`` would, minus the object-by-object teardown.

    With a non-daemon thread still running (a normal exit would wait for it) this is ``sys.exit``.
    """
    main = threading.main_thread()
    if threading.current_thread() is main and any(
        t.is_alive() and not t.daemon for t in threading.enumerate() if t is not main
    ):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (``| head``) or a closed stream: nothing more to say
            pass
    os._exit(code)
