#!/usr/bin/env python3
"""Developer entry point that needs only Python 3.11+: makes .venv, installs Tocsin, runs a task.

python3 dev.py demo      start a populated demo instance (embedded SQLite)
python3 dev.py test      run the whole test suite (SQLite, PostgreSQL and Chromium when present)
python3 dev.py check     format, lint, type and import-layer checks
python3 dev.py bench     run the benchmarks, write bench/results/*.json
python3 dev.py tocsin …  any tocsin command inside the virtual environment
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def ensure_venv(extras: str) -> None:
    """Create .venv and (re)install when pyproject.toml changed; quiet when nothing to do."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit(f"Tocsin needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        print("Creating .venv …", file=sys.stderr)
        result = subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=False)
        if result.returncode != 0 or not PY.exists():
            sys.exit(
                "Could not create a virtual environment. On Debian/Ubuntu: "
                "sudo apt-get install python3-venv"
            )
        subprocess.run([str(PY), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / ".tocsin-installed"
    have = stamp.read_text().split("|") if stamp.exists() else ["", ""]
    if have[0] == digest and extras in ("", have[1]):
        return
    print(f"Installing Tocsin{'[' + extras + ']' if extras else ''} into .venv …", file=sys.stderr)
    target = f".[{extras}]" if extras else "."
    subprocess.run([str(PY), "-m", "pip", "install", "-q", "-e", target], cwd=ROOT, check=True)
    stamp.write_text(f"{digest}|{extras}")


def run(*cmd: str | Path) -> int:
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, check=False).returncode


def main(argv: list[str]) -> int:
    task, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if task == "demo":
        ensure_venv("")
        return run(BIN / "tocsin", "demo", *rest)
    if task == "tocsin":
        ensure_venv("")
        return run(BIN / "tocsin", *rest)
    if task == "test":
        ensure_venv("dev")
        return run(PY, "-m", "pytest", *rest)
    if task == "check":
        ensure_venv("dev")
        steps = [
            [BIN / "ruff", "format", "--check", "."],
            [BIN / "ruff", "check", "."],
            [BIN / "mypy"],
            [BIN / "lint-imports"],
        ]
        for step in steps:
            print(
                "$", " ".join(str(s.name if isinstance(s, Path) else s) for s in step), flush=True
            )
            if code := run(*step):
                return code
        return 0
    if task == "bench":
        ensure_venv("dev")
        return run(PY, "-m", "bench", *rest)
    print(__doc__)
    return 0 if task in ("help", "-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
