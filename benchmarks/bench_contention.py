"""Training on a busy machine: steps/s of the real CLI (``python -m pokerl_fast.train``, defaults, test world)
beside one CPU-bound process this benchmark starts itself, as a ratio of the same run's steps/s alone.

Two settings, each alone and then beside the hog:
  shipped           the package's defaults (OpenMP threads spin briefly, then sleep: GOMP_SPINCOUNT=3000)
  spinning OpenMP   GOMP_SPINCOUNT=300000, libgomp's own default when no wait policy is set (the code before the fix)

Run: ``pytest benchmarks/bench_contention.py --benchmark-only -s`` (about 6 minutes on 2 cores; nothing else may
run beside it). POKERL_BENCH_STEPS changes the steps per run (default 20,480).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

STEPS = int(os.environ.get("POKERL_BENCH_STEPS", 20480))
SETTINGS = {"shipped": {}, "spinning OpenMP": {"GOMP_SPINCOUNT": "300000"}}
STATUS = re.compile(r"^step (\d+)/(\d+)\s+(\d+) steps/s", re.M)


def training_sps(run_dir: Path, extra_env: dict[str, str]) -> float:
    """charts/SPS of a default training run, from its last status line (steps/s since its first rollout)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")} | extra_env
    out = subprocess.run(
        [sys.executable, "-m", "pokerl_fast.train", "--run-dir", str(run_dir), "--total-steps", str(STEPS),
         "--no-progress", "--map-png-iterations", "0"],
        env=env, capture_output=True, text=True, timeout=1800,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    step, total, sps = STATUS.findall(out.stdout)[-1]
    assert int(step) == int(total) >= STEPS
    return float(sps)


def beside_hog(fn):
    """Run fn() while one busy-looping Python process shares the machine."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        return fn()
    finally:
        hog.kill()
        hog.wait()


@pytest.mark.benchmark(group="contention")
@pytest.mark.parametrize("name", list(SETTINGS))
def test_training_beside_a_cpu_hog(benchmark, report, tmp_path, name):
    extra = SETTINGS[name]
    alone = training_sps(tmp_path / "alone", extra)
    busy = beside_hog(lambda: training_sps(tmp_path / "busy", extra))
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    report(f"steps/s beside a CPU hog / alone ({name})", busy / alone,
           note=f"target >= 0.4; {busy:.0f} vs {alone:.0f} steps/s, {STEPS} steps, {os.cpu_count()} CPUs")
    benchmark.extra_info.update(alone_sps=alone, busy_sps=busy)
