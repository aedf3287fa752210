"""Summaries of repeated timings: median and spread, never a single sample."""

from __future__ import annotations

import statistics
import subprocess
import time
from typing import Callable


def summarize(samples: list[float]) -> dict[str, float | int]:
    ordered = sorted(samples)
    quartiles = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else [ordered[0]] * 3
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "p25": quartiles[0],
        "p75": quartiles[2],
        "min": ordered[0],
        "max": ordered[-1],
    }


def time_call(fn: Callable[[], object], runs: int, warmup: int = 1) -> dict[str, float | int]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return summarize(samples)


def time_command(cmd: list[str], runs: int, warmup: int = 1, **kwargs) -> dict[str, float | int]:
    def once() -> None:
        proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:3])}... failed: {proc.stderr.strip()[-300:]}")

    return time_call(once, runs, warmup)
