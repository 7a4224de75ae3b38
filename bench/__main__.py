"""Run benchmarks: ``python -m bench [outbox] [schedules] [ingest] [paging] [--quick]``.

With no name, all of them.
"""

from __future__ import annotations

import sys

from bench import ingest, outbox, paging, schedules

BENCHMARKS = {
    "outbox": outbox.main,
    "schedules": schedules.main,
    "ingest": ingest.main,
    "paging": paging.main,
}


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    names = [arg for arg in argv if not arg.startswith("-")] or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    for name in names:
        BENCHMARKS[name](quick=quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
