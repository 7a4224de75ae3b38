"""Schedule rules: render one year of a busy schedule; who is on call across 1,000.

Pure and loopback-free: no database, no network. The busy schedule has 5 layers of
10 participants with daily restrictions, 50 overrides and time off. Baseline
(measured in the same run): one year of a single-layer schedule with no
restrictions, overrides or time off; ratios to it are the honest figure.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

from tocsin.schedules import rules
from tocsin.schedules.model import (
    HolidayCalendar,
    Layer,
    Override,
    Restriction,
    Schedule,
    TimeOff,
)

RESULTS = Path(__file__).resolve().parent / "results"
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2027, 1, 1, tzinfo=UTC)
TARGET_RENDER_MS = 10.0
TARGET_LOOKUP_MS = 50.0


def busy_schedule(seed: int = 0, zone: str = "Europe/London") -> Schedule:
    """5 layers x 10 people, daily windows, 50 overrides, 20 time-off periods."""
    windows = [
        (clock(0), clock(0)),  # all day: weekly primary
        (clock(8), clock(18)),
        (clock(18), clock(0)),
        (clock(0), clock(8)),
        (clock(9), clock(17)),
    ]
    turns = [168, 24, 12, 24, 8]
    layers = tuple(
        Layer(
            participants=tuple(f"u{seed}-{i}-{p}" for p in range(10)),
            turn_hours=turns[i],
            start=date(2025, 12, 1),
            handoff=clock(9, 30),
            restrictions=() if i == 0 else (Restriction(*windows[i]),),
        )
        for i in range(5)
    )
    overrides = tuple(
        Override(
            f"u{seed}-o-{k}",
            YEAR_START + timedelta(days=7 * k + 1, hours=seed % 24),
            YEAR_START + timedelta(days=7 * k + 1, hours=seed % 24 + 6),
        )
        for k in range(50)
    )
    time_off = tuple(
        TimeOff(
            f"u{seed}-{k % 5}-{k % 10}",
            YEAR_START + timedelta(days=17 * k + 3),
            YEAR_START + timedelta(days=17 * k + 8),
        )
        for k in range(20)
    )
    return rules.validate(Schedule(zone, layers, overrides, time_off))


def holiday_schedule() -> Schedule:
    """The busy schedule with England's bank holidays: office hours off, a holiday layer."""
    busy = busy_schedule()
    office = dataclasses.replace(busy.layers[4], on_holidays="off")
    holiday = Layer(
        tuple(f"h-{p}" for p in range(10)), 24, date(2025, 12, 1), clock(9, 30), on_holidays="only"
    )
    layers = (*busy.layers[:4], office, holiday)
    return rules.validate(
        dataclasses.replace(busy, layers=layers, holidays=HolidayCalendar("GB", "ENG"))
    )


def baseline_schedule() -> Schedule:
    layer = Layer(tuple(f"b{p}" for p in range(10)), 24, date(2025, 12, 1), clock(9, 30))
    return Schedule("Europe/London", (layer,))


def _timings_ms(fn: Callable[[], object], repeats: int) -> list[float]:
    """Wall times of ``repeats`` runs after one warm-up; GC off while timed, as timeit."""
    fn()  # warm up (imports, zone data); the rules keep no memo between calls
    runs = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            begun = time.perf_counter()
            fn()
            runs.append((time.perf_counter() - begun) * 1000)
        finally:
            gc.enable()
    return runs


def _row(case: str, runs: list[float], target: float | None) -> dict[str, Any]:
    return {
        "case": case,
        "median_ms": statistics.median(runs),
        "min_ms": min(runs),
        "max_ms": max(runs),
        "target_ms": target,
    }


def main(*, quick: bool = False) -> dict[str, Any]:
    repeats = 3 if quick else 7
    busy = busy_schedule()
    zones = ("Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata")
    many = [busy_schedule(seed, zones[seed % 4]) for seed in range(1000)]
    now = datetime(2026, 6, 15, 13, 45, tzinfo=UTC)
    base = baseline_schedule()
    festive = holiday_schedule()
    shifts = len(rules.render(busy, YEAR_START, YEAR_END))
    rows = [
        _row(
            "baseline: 1 layer, 1 year render",
            _timings_ms(lambda: rules.render(base, YEAR_START, YEAR_END), repeats),
            None,
        ),
        _row(
            "busy schedule, 1 year render",
            _timings_ms(lambda: rules.render(busy, YEAR_START, YEAR_END), repeats),
            TARGET_RENDER_MS,
        ),
        _row(
            "busy + holidays, 1 year render",
            _timings_ms(lambda: rules.render(festive, YEAR_START, YEAR_END), repeats),
            None,
        ),
        _row(
            "on call now, 1,000 busy schedules",
            _timings_ms(lambda: [rules.oncall_at(s, now) for s in many], repeats),
            TARGET_LOOKUP_MS,
        ),
    ]
    base_ms = rows[0]["median_ms"]
    head = f"{'case':36} {'median ms':>10} {'min ms':>8} {'target ms':>10} {'met':>4}"
    print(f"{head} {'÷ baseline':>10}")
    for row in rows:
        target = row["target_ms"]
        row["met"] = None if target is None else row["median_ms"] <= target
        row["vs_baseline"] = row["median_ms"] / base_ms
        met = "" if row["met"] is None else ("yes" if row["met"] else "NO")
        cells = (
            f"{row['median_ms']:>10.2f} {row['min_ms']:>8.2f} {target or '':>10} {met:>4} "
            f"{row['vs_baseline']:>10.1f}"
        )
        print(f"{row['case']:36} {cells}")
    result = {
        "benchmark": "schedules",
        "what": "pure schedule rules: one-year render of a 5x10 layered schedule with "
        "daily restrictions, 50 overrides and time off; oncall_at over 1,000 such schedules",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "repeats": repeats,
        "timing": "median of repeats after one warm-up, GC disabled while timed (as timeit); "
        "no memo of a schedule survives between calls (every call rebuilds its rotations and "
        "wall-clock conversions); the only cross-call cache is the holidays package's "
        "per-year table, warm after the warm-up run",
        "busy_year_shifts": shifts,
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "schedules.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
