"""The progress mechanics, one at a time, on the benchmark world: PPO with each switch, 3 seeds, beside random.

``python benchmarks/ablate.py --variants base swarm ... --seeds 1 2 3 --steps 150000 --out runs/ablate``
trains every variant (the common flags + its own) once per seed with ``python -m pokerl_fast.train`` (one run at a
time: the runs own the CPU; nothing else should run beside them), then reads each run's TensorBoard
``milestones/first_step/*`` (the env step at which any env of the run first reached the milestone) and
``progress.json`` (the policy evaluated alone from the start state, when the trainer wrote one), runs the random
policy with the same envs and budget, and writes ``summary.json`` and a markdown table (docs/learning.md keeps the
measured one). ``--table-only`` rebuilds the table from finished runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SMALL = ["--hidden-size", "128", "--cnn-channels", "16", "32", "32", "--cnn-features", "128",
         "--map-embedding", "16", "--ram-hidden", "64"]
COMMON = ["--rom", "benchworld", "--num-envs", "16", "--bf16", "--no-progress", "--map-png-iterations", "0",
          "--checkpoint-minutes", "1000", "--eval-interval", "24", "--eval-episodes", "16", "--eval-steps", "512"]
SWARM = ["--swarm-interval", "512", "--reset-to-archive", "0.25"]
OFF = ["--episode-length", "2048", "--explore-reset-interval", "0", "--swarm-interval", "0", "--reset-to-archive", "0",
       "--explore-boost", "1", "--no-observe-progress", "--stuck-steps", "0", "--no-stuck-ends-episode",
       "--swarm-cell-size", "0"]
"""Every progress mechanism off (the trainer's defaults turn the chosen ones on: train.training_env)."""
ALL = SWARM + ["--episode-length", "16384", "--explore-reset-interval", "2048", "--explore-boost", "3",
               "--observe-progress", "--stuck-steps", "256", "--stuck-ends-episode"]
FIXED = ["--no-adaptive-steps"]
"""Every step 24 frames (the trainer's default before round 3's follow-up chose adaptive steps)."""
ROUND1_DEFAULTS = ["--swarm-cell-size", "0", "--swarm-archive-size", "64", *FIXED]
"""The trainer's defaults before round 3 (= ALL): no archive cells, fixed steps."""
REVISIT = ["--revisit-half-life", "256"]
ROUND2 = ["--eval-interval", "60", "--eval-steps", "1024"]
CELLS = ["--swarm-cell-size", "8", "--swarm-archive-size", "512"]
RED = ROUND2 + CELLS + ["--adaptive-steps"]
"""Round 4's and 5's base: the trainer's defaults (stuck envs marked, not ended) with the round-2 evaluation."""

VARIANTS: dict[str, list[str]] = {
    # Round 1: each mechanism alone on top of everything off.
    "base": OFF,
    "swarm": OFF + SWARM,
    "long_episodes": OFF + ["--episode-length", "16384", "--explore-reset-interval", "2048"],
    "explore_boost": OFF + ["--explore-boost", "3"],
    "observe_progress": OFF + ["--observe-progress"],
    "stuck_ends": OFF + ["--stuck-steps", "256", "--stuck-ends-episode"],
    "adaptive": OFF + ["--adaptive-steps"],
    "swarm_long": OFF + SWARM + ["--episode-length", "16384", "--explore-reset-interval", "2048"],
    "all": OFF + ALL,
    # Round 2: on top of the defaults chosen in round 1 (= all), longer budgets, the policy evaluated alone for
    # 1,024 steps (room for the parcel) every 60 updates.
    "default": ROUND2 + ROUND1_DEFAULTS,
    "default_revisit": ROUND2 + ROUND1_DEFAULTS + REVISIT,
    "default_adaptive": ROUND2 + ROUND1_DEFAULTS + ["--adaptive-steps"],
    "default_policy": ROUND2 + ROUND1_DEFAULTS,  # the default 3.5M-parameter policy (no SMALL flags)
    # Round 3: the frontier moved by cells, not only by milestones (Go-Explore), and the exploration memory
    # cleared at each new milestone (the way back with the parcel pays again).
    "default_cells": ROUND2 + CELLS + FIXED,
    "default_reset_on_progress": ROUND2 + ROUND1_DEFAULTS + ["--explore-reset-on-progress"],
    "default_cells_reset": ROUND2 + CELLS + FIXED + ["--explore-reset-on-progress"],
    # On top of default_cells: the round-2 questions (revisit decay, adaptive steps compared in frames, the
    # default 3.5M-parameter policy against the small one per wall-clock hour).
    "cells_revisit": ROUND2 + CELLS + FIXED + REVISIT,
    "cells_adaptive": ROUND2 + CELLS + ["--adaptive-steps"],  # = the trainer's defaults after round 3
    "cells_policy": ROUND2 + CELLS + FIXED,  # the default policy (FULL_POLICY)
    # Round 4 (2026-12-07): the world with Red's time between events (text, YES/NO, the naming screen, battles
    # through menus), the trainer's defaults, and the stuck rule three ways: marking only (the default), off, and
    # ending stuck episodes (never inside text, a menu or a battle).
    "red_stuck_marks": ROUND2 + CELLS + ["--adaptive-steps"],
    "red_stuck_off": ROUND2 + CELLS + ["--adaptive-steps", "--stuck-steps", "0"],
    "red_stuck_ends": ROUND2 + CELLS + ["--adaptive-steps", "--stuck-ends-episode"],
    "red_policy": ROUND2 + CELLS + ["--adaptive-steps"],  # = red_stuck_marks with the default policy (FULL_POLICY)
    # Round 5: the same world, each mechanism of the defaults (= red_stuck_marks) taken away alone, and all of them.
    "red_short_episodes": RED + ["--episode-length", "2048", "--explore-reset-interval", "0"],
    "red_no_swarm": RED + ["--swarm-interval", "0"],
    "red_no_archive_reset": RED + ["--reset-to-archive", "0"],
    "red_no_boost": RED + ["--explore-boost", "1"],
    "red_no_progress_obs": RED + ["--no-observe-progress"],
    "red_fixed_steps": RED + FIXED,
    "red_all_off": ROUND2 + OFF + FIXED,
}
"""Each variant's own flags on top of COMMON; later flags win, so OFF first and the mechanism after."""

FULL_POLICY = {"default_policy", "cells_policy", "red_policy"}
"""Variants trained with the trainer's default policy instead of SMALL."""


def first_steps(run_dir: Path, kind: str = "step") -> dict[str, float]:
    """Milestone -> the env step (kind "step") or emulated frame (kind "frames") at which the run first reached it."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags().get("scalars", []):
        if tag.startswith(f"milestones/first_{kind}/"):
            out[tag.split("/", 2)[2]] = acc.Scalars(tag)[0].value
    return out


WAY_MAPS = ("VIRIDIAN_CITY", "ROUTE_2", "VIRIDIAN_FOREST", "PEWTER_CITY", "PEWTER_GYM")
"""Maps on the way to Brock whose first visit counts as a milestone of its own ("MAP_<name>"): after the Pokedex
no event is set until Brock's badge, so these say how far a run got."""


def first_arrivals(run_dir: Path) -> tuple[dict[str, float], dict[str, float]]:
    """"MAP_<name>" -> the env step (and the emulated frame) of the first update after which the run's share of
    training steps on that map (progress/map_share) was above 0, for WAY_MAPS; frames interpolated from
    charts/frames."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    tags = acc.Tags().get("scalars", [])
    frames = acc.Scalars("charts/frames") if "charts/frames" in tags else []
    steps, frame_at = [e.step for e in frames], [e.value for e in frames]
    out_steps, out_frames = {}, {}
    for name in WAY_MAPS:
        tag = f"progress/map_share/{name}"
        if tag not in tags:
            continue
        hit = next((e.step for e in acc.Scalars(tag) if e.value > 0), None)
        if hit is None:
            continue
        out_steps[f"MAP_{name}"] = float(hit)
        if steps:
            out_frames[f"MAP_{name}"] = float(np.interp(hit, steps, frame_at))
    return out_steps, out_frames


def frames_per_step(run_dir: Path) -> float | None:
    """The run's mean emulated frames per env step (charts/frames over the step at the last update)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    if "charts/frames" in acc.Tags().get("scalars", []):
        last = acc.Scalars("charts/frames")[-1]
        return float(last.value) / max(last.step, 1)
    return None


def random_first_steps(steps: int, seed: int, extra: list[str]) -> dict[str, float]:
    """Env step at which any of 16 random-action envs first reached each milestone (same episodes as training)."""
    import pokerl_fast

    episode_length = int(extra[extra.index("--episode-length") + 1]) if "--episode-length" in extra else 2048
    from pokerl_fast.game.constants import MAP_IDS

    envs = pokerl_fast.make_vec_env(16, rom="benchworld", seed=seed, episode_length=episode_length)
    rng = np.random.default_rng(seed)
    way = {MAP_IDS[name]: f"MAP_{name}" for name in WAY_MAPS}
    arrived: dict[str, float] = {}
    try:
        envs.reset(seed=seed)
        for t in range(steps // 16):
            _, _, _, _, info = envs.step(rng.integers(0, envs.single_action_space.n, 16))
            for m in np.unique(info["map"]):
                if int(m) in way and way[int(m)] not in arrived:
                    arrived[way[int(m)]] = float((t + 1) * 16)
        return {**{name: float(step * 16) for name, step in envs.milestones.items()}, **arrived}
    finally:
        envs.close()


def run(variant: str, seed: int, steps: int, out: Path) -> Path:
    run_dir = out / f"{variant}-s{seed}"
    if (run_dir / "done").exists():
        return run_dir
    policy = [] if variant in FULL_POLICY else SMALL
    cmd = [sys.executable, "-m", "pokerl_fast.train", "--run-dir", str(run_dir), "--total-steps", str(steps),
           "--seed", str(seed), *COMMON, *policy, *VARIANTS[variant]]
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    (run_dir / "done").write_text(f"{time.monotonic() - t0:.1f}\n")
    return run_dir


def table(summary: dict, milestones: list[str], key: str = "first_steps", unit: float = 1000, suffix: str = "k") -> str:
    """Markdown: per variant, per milestone, the median over seeds of the first step (key "first_steps") or
    frame ("first_frames", in millions) and how many seeds got there."""
    head = "| variant | " + " | ".join(m.replace("EVENT_", "") for m in milestones) + " | minutes/run |"
    lines = [head, "|" + "---|" * (len(milestones) + 2)]
    for variant, runs in summary.items():
        if any(key not in r for r in runs):
            continue
        cells = []
        for m in milestones:
            got = [r[key][m] for r in runs if m in r[key]]
            if got:
                cells.append(f"{statistics.median(got) / unit:.{1 if suffix == 'M' else 0}f}{suffix} ({len(got)}/{len(runs)})")
            else:
                cells.append(f"- (0/{len(runs)})")
        minutes = [r["seconds"] / 60 for r in runs if r.get("seconds")]
        lines.append(f"| {variant} | " + " | ".join(cells) + f" | {statistics.mean(minutes):.1f} |" if minutes
                     else f"| {variant} | " + " | ".join(cells) + " | - |")
    return "\n".join(lines)


def alone_table(summary: dict, milestones: list[str]) -> str:
    """Markdown: the policy alone from the start state at the end of each run (the trainer's last evaluation,
    16 episodes of 512 steps, swarming off), mean over seeds; and the training's share of steps on Route 1 and
    beyond."""
    near = ("REDS_HOUSE_2F", "REDS_HOUSE_1F", "PALLET_TOWN", "BLUES_HOUSE", "OAKS_LAB", "ROUTE_1")
    head = ("| variant | " + " | ".join(m.replace("EVENT_", "") for m in milestones)
            + " | tiles | training steps on Route 1 | on Viridian and beyond |")
    lines = [head, "|" + "---|" * (len(milestones) + 4)]
    for variant, runs in summary.items():
        runs = [r for r in runs if "progress" in r and r["progress"].get("eval")]
        if not runs:
            continue
        ev = [r["progress"]["eval"] for r in runs]
        cells = [f"{np.mean([e['milestones'].get(m, {}).get('reach_rate', 0.0) for e in ev]):.0%}" for m in milestones]
        tiles = np.mean([e["explore"]["mean"] for e in ev])
        share = [r["progress"]["progress"]["map_share"] for r in runs]
        r1 = np.mean([s.get("ROUTE_1", 0.0) for s in share])
        beyond = np.mean([sum(v for k, v in s.items() if k not in near) for s in share])
        lines.append(f"| {variant} | " + " | ".join(cells) + f" | {tiles:.0f} | {r1:.1%} | {beyond:.2%} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS) + ["random"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--steps", type=int, default=150_000)
    ap.add_argument("--out", default="runs/ablate")
    ap.add_argument("--table-only", action="store_true")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    for variant in args.variants:
        for seed in args.seeds:
            if args.table_only:
                break
            if variant == "random":
                key = out / f"random-s{seed}.json"
                if not key.exists():
                    key.write_text(json.dumps(random_first_steps(args.steps, seed, [])))
                continue
            run(variant, seed, args.steps, out)
    for variant in args.variants:
        runs = []
        for seed in args.seeds:
            if variant == "random":
                path = out / f"random-s{seed}.json"
                if path.exists():
                    got = json.loads(path.read_text())  # random steps 24 frames each
                    runs.append({"seed": seed, "first_steps": got, "first_frames": {k: v * 24 for k, v in got.items()}})
                continue
            run_dir = out / f"{variant}-s{seed}"
            if not (run_dir / "done").exists():
                continue
            map_steps, map_frames = first_arrivals(run_dir)
            entry = {"seed": seed, "first_steps": {**first_steps(run_dir), **map_steps},
                     "first_frames": {**first_steps(run_dir, "frames"), **map_frames},
                     "seconds": float((run_dir / "done").read_text()), "frames_per_step": frames_per_step(run_dir)}
            progress = run_dir / "progress.json"
            if progress.exists():
                entry["progress"] = json.loads(progress.read_text())
            runs.append(entry)
        if runs:
            summary[variant] = runs
    summary_path.write_text(json.dumps(summary, indent=1))
    from pokerl_fast.env.progress import MILESTONE_NAMES

    # In the order the runs reached them (the earliest first step over all runs).
    firsts: dict[str, float] = {}
    for r in (r for runs in summary.values() for r in runs):
        for m, step in r["first_steps"].items():
            firsts[m] = min(step, firsts.get(m, step))
    order = list(MILESTONE_NAMES) + [f"MAP_{name}" for name in WAY_MAPS]
    seen = sorted(firsts, key=lambda m: (firsts[m], order.index(m) if m in order else len(order)))
    text = (table(summary, seen) + "\n\nIn emulated frames (millions):\n\n"
            + table({k: v for k, v in summary.items() if any(r.get("first_frames") for r in v)}, seen,
                    "first_frames", 1e6, "M")
            + "\n\n" + alone_table({k: v for k, v in summary.items() if k != "random"}, seen))
    (out / "table.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
