"""Run every benchmark: ``python -m bench [--quick]``."""

from __future__ import annotations

import sys

from bench import outbox, schedules


def main(argv: list[str]) -> int:
    outbox.main(quick="--quick" in argv)
    schedules.main(quick="--quick" in argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
