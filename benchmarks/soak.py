"""Soak: train for a long run on the test world and watch the trainer's memory.

    python benchmarks/soak.py [--steps 1000000] [--every 50000] [--warmup 100000] [--out soak.json] [-- TRAIN FLAGS]

Starts ``python -m pokerl_fast.train`` (defaults, a temporary run dir unless ``--run-dir`` is among the train
flags), reads its status lines and samples its resident set size (VmRSS) the first time the step count passes
each multiple of ``--every``. Prints a table, writes the samples as JSON, and exits 1 when RSS grew by 5% or more
from the first sample at or after ``--warmup`` steps to the last. Not part of the test run (it takes ~30 minutes
on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STATUS = re.compile(r"^step (\d+)/(\d+)")
LIMIT = 0.05


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=50_000)
    parser.add_argument("--warmup", type=int, default=100_000)
    parser.add_argument("--out", default="soak.json")
    parser.add_argument("train_flags", nargs="*", help="more flags for python -m pokerl_fast.train (after --)")
    args = parser.parse_args(argv)

    flags = list(args.train_flags)
    if "--run-dir" not in flags:
        flags += ["--run-dir", str(Path(tempfile.mkdtemp(prefix="pokerl-soak-")) / "run")]
    cmd = [sys.executable, "-m", "pokerl_fast.train", "--total-steps", str(args.steps), "--no-progress", *flags]
    print(" ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, bufsize=1)
    samples, next_mark, start = [], args.every, time.monotonic()
    for line in proc.stdout:
        match = STATUS.match(line)
        if not match:
            continue
        step = int(match.group(1))
        if step >= next_mark or step >= args.steps:
            try:
                rss = rss_mib(proc.pid)
            except (OSError, RuntimeError):
                break  # the trainer is exiting
            samples.append({"step": step, "rss_mib": rss, "seconds": time.monotonic() - start})
            print(f"step {step:>9,}  RSS {rss:8.1f} MiB  {samples[-1]['seconds']:7.0f} s", flush=True)
            while next_mark <= step:
                next_mark += args.every
    rc = proc.wait()
    if rc != 0:
        print(f"the trainer exited with {rc}", file=sys.stderr)
        return 2
    after = [s for s in samples if s["step"] >= args.warmup]
    if len(after) < 2:
        print("too few samples after the warm-up: raise --steps", file=sys.stderr)
        return 2
    growth = after[-1]["rss_mib"] / after[0]["rss_mib"] - 1
    report = {"cmd": cmd, "samples": samples, "warmup": args.warmup, "growth_after_warmup": growth,
              "peak_rss_mib": max(s["rss_mib"] for s in samples)}
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"RSS growth after {args.warmup:,} steps: {growth:+.2%} (limit {LIMIT:.0%}); samples in {args.out}")
    return 0 if growth < LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
