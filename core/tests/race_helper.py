"""Starts N processes of one spec at the same instant, T times, through the real CLI; prints JSON.

One parent imports emergebench once and forks the writers (so 50 trials of 8 processes stay fast); each
child waits on a shared gate, then runs ``emergebench run`` in-process and exits with its code.
Usage: python race_helper.py ROOT TRIALS PROCESSES -- CLI ARGS...
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from emergebench.cli import cli
from emergebench.plugins import get_manager


def trial(home: Path, processes: int, args: list[str]) -> list[int]:
    os.environ["EMERGEBENCH_HOME"] = str(home)
    read_end, write_end = os.pipe()
    pids = []
    home.mkdir(parents=True, exist_ok=True)
    for index in range(processes):
        pid = os.fork()
        if pid == 0:
            os.close(write_end)
            out = os.open(home / f"writer{index}.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, 1)  # the parent's stdout carries only the JSON result
            os.dup2(out, 2)
            os.read(read_end, 1)  # the gate: every child starts when the parent writes
            try:
                cli.main(args=args, prog_name="emergebench", standalone_mode=False)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 - any crash is a failed trial
                import traceback

                traceback.print_exc()
                code = 99
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        pids.append(pid)
    os.close(read_end)
    os.write(write_end, b"x" * processes)
    os.close(write_end)
    return [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]


def main() -> None:
    root, trials, processes = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    args = sys.argv[sys.argv.index("--") + 1 :]
    get_manager().load()  # plugins loaded once, before forking
    codes = [trial(root / f"t{t}", processes, args) for t in range(trials)]
    print(json.dumps(codes))


if __name__ == "__main__":
    main()
