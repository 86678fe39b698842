"""What a run shows besides its checkpoints: the logger's first lines, milestone clips, new milestones as they
are reached, the periodic evaluation of the policy alone, progress.json and its table, the map picture and the live
map page."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

import torch

from pokerl_fast import cli, runtime
from pokerl_fast.config import TrainConfig
from pokerl_fast.env.tally import format_progress_table, summary_scalars
from pokerl_fast.learn import distributed
from pokerl_fast.run.checks import TrainError
from pokerl_fast.run.learner import Learner, num_iterations
from pokerl_fast.run.logger import RunLogger
from pokerl_fast.watch.kanto_map import render_explored_map, render_kanto_map, screens_to_rgb
from pokerl_fast.watch.video import VideoWriter, upscale, with_caption


def open_logger(cfg: TrainConfig, learner: Learner, device: torch.device, resumed: bool,
                ranks: distributed.Ranks = distributed.Ranks()) -> RunLogger:
    """TensorBoard (+ W&B) and the progress display, announced with one line about the run; under torchrun
    only rank 0's logger writes or prints (the others' are silent)."""
    start_step = learner.counters.global_step * ranks.world
    iterations = num_iterations(cfg, ranks)
    if not ranks.main:
        return RunLogger(cfg.run_dir, iterations * cfg.batch_size * ranks.world, start_step, tensorboard=False,
                         progress=False, stream=io.StringIO())
    logger = RunLogger(
        cfg.run_dir, iterations * cfg.batch_size * ranks.world, start_step, wandb=cfg.wandb,
        wandb_project=cfg.wandb_project, config=cli.to_dict(cfg), progress=cfg.progress,
    )
    logger.message(
        f"policy: {learner.policy.num_parameters():,} parameters | {cfg.num_envs} envs x {cfg.ppo.num_steps} steps, "
        f"{iterations} iterations | device {device} | run dir {cfg.run_dir}"
        + (f" | resumed at step {start_step}" if resumed else "")
        + (f" | {ranks.world} ranks (torchrun), {cfg.num_envs} envs each" if ranks.active else "")
    )
    logger.message(cfg.env.mechanisms())
    start = start_line(cfg.env)
    if start:
        logger.message(start)
    logger.message("precision: bfloat16 autocast (--no-bf16 for float32)" if cfg.policy.bf16 else
                   "precision: float32" + ("" if device.type == "cuda" or runtime.cpu_runs_bf16() else
                                           " (this CPU has no AVX512-BF16 or AMX)"))
    return logger


def start_line(env) -> str | None:
    """The run's first lines name a start the user chose: a state file, or a save continued at its place."""
    if env.start_state is not None:
        return f"start: the state {env.start_state}"
    if env.start_save is not None:
        from pokerl_fast.game.constants import MAPS
        from pokerl_fast.game.sav import saved_place

        map_id, x, y = saved_place(Path(env.start_save).read_bytes())
        name = next((m[1] for m in MAPS if m[0] == map_id), f"map {map_id}")
        return f"start: the save {env.start_save}, continued by the game's CONTINUE: {name} at ({x},{y})"
    return None


CLIP_SCALE = 3
"""Clips are drawn 3x (nearest neighbour) with a caption line: the milestone, the env, the step before it."""
MAX_CLIPS = 64
"""Milestone clips a run writes at most (one per milestone first reached: Red has fewer)."""


def write_clips(envs, run_dir: str, num_envs: int) -> list[Path]:
    """run_dir/clips/<step>-<MILESTONE>.mp4 (or .gif): the last env.clip_steps screens of the env that first
    reached each milestone since the last call; a clip that cannot be written is one warning line."""
    written = []
    folder = Path(run_dir) / "clips"
    for name, env, vector_step, packed in envs.take_clips():
        if folder.is_dir() and len(list(folder.iterdir())) >= MAX_CLIPS:
            break
        writer = VideoWriter(folder / f"{vector_step * num_envs:012d}-{name}-env{env}", fps=10)
        try:
            folder.mkdir(exist_ok=True)
            label = name.removeprefix("EVENT_")
            for k, frame in enumerate(screens_to_rgb(packed)):  # the policy's half-resolution screens, 3x
                before = len(packed) - 1 - k  # steps before the one that reached the milestone
                text = f"{label}   env {env}   step -{before}" if before else f"{label} reached"
                writer.add(with_caption(upscale(frame, CLIP_SCALE), text))
            written.append(writer.close())
        except OSError as e:
            writer.abort()
            print(f"warning: could not write the clip of {name} ({e.strerror or e}); training goes on", file=sys.stderr)
    return written


def report_new_milestones(envs, num_envs: int, logger: RunLogger, world: int = 1) -> dict[str, float]:
    """Named milestones (each required event, each badge) first reached by any env since the last report:
    one printed line each, and ``milestones/first_step/<NAME>`` (env steps). Ones restored from a checkpoint
    were reported by the run that reached them."""
    scalars = {}
    for name, vector_step in envs.progress.take_new_firsts():
        scalars[f"milestones/first_step/{name}"] = float(vector_step * num_envs * world)  # ranks step in lockstep
        if name in envs.progress.first_frames:
            scalars[f"milestones/first_frames/{name}"] = float(envs.progress.first_frames[name])
        logger.message(f"milestone {name} first reached at step {vector_step * num_envs * world}")
    return scalars


def run_evaluation(cfg: TrainConfig, learner: Learner, envs, device: torch.device) -> dict[str, float]:
    """The periodic evaluation: the policy alone from the start state (``evaluate``, seeded with env.seed so
    every evaluation sees the same starts); kept as ``learner.last_eval``, returned as eval/... scalars."""
    from pokerl_fast.learn.policy_alone import evaluate

    start = time.monotonic()
    result = evaluate(learner.policy, cfg.env, episodes=cfg.eval_episodes,
                      steps=cfg.eval_steps or cfg.env.episode_length, seed=cfg.env.seed, device=device,
                      start_state=envs.start_state)
    result.update(global_step=learner.counters.global_step, iteration=learner.counters.iteration)
    learner.last_eval = result
    return summary_scalars(result, "eval") | {"perf/eval_seconds": time.monotonic() - start}


def write_progress(cfg: TrainConfig, learner: Learner, logger: RunLogger, envs=None, world: int = 1) -> dict:
    """Print the run's progress table (and the last evaluation's) and write run_dir/progress.json and, with
    ``envs``, progress.png (watch/progress_chart.py: each milestone's first step, its reach rate over training and
    the evaluations'); returns the report."""
    report = {
        "global_step": learner.counters.global_step,
        "iteration": learner.counters.iteration,
        "progress": learner.stats.tally.summary(),
        "eval": learner.last_eval,
    }
    logger.message(format_progress_table(report["progress"], "run progress"))
    if learner.last_eval is not None:
        title = f"last evaluation (step {learner.last_eval['global_step']})"
        logger.message(format_progress_table(learner.last_eval, title))
    path = Path(cfg.run_dir) / "progress.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=1))
    os.replace(tmp, path)
    if envs is not None:
        write_progress_png(cfg, learner, logger, envs, world)
    return report


def write_progress_png(cfg: TrainConfig, learner: Learner, logger: RunLogger, envs, world: int = 1) -> None:
    """run_dir/progress.png from the run's TensorBoard series; a picture that cannot be written is one line on
    stderr (the run's results are in progress.json and the checkpoint)."""
    from pokerl_fast.watch.kanto_map import write_png
    from pokerl_fast.watch.progress_chart import progress_picture

    logger.flush()  # the series are read back from the event files
    firsts = {name: step * cfg.num_envs * world for name, step in envs.milestones.items()}
    try:
        picture = progress_picture(cfg.run_dir, envs.milestone_names, firsts, learner.counters.global_step * world,
                                   learner.last_eval)
        write_png(picture, Path(cfg.run_dir) / "progress.png")
    except OSError as e:
        print(f"warning: could not write progress.png ({e.strerror or e}); the run's figures are in progress.json",
              file=sys.stderr)


def write_map(envs, run_dir: str) -> None:
    """run_dir/explored_map.png; a picture that cannot be written (a full disk) is one line on stderr, and the run
    goes on: the map is a view, the checkpoint that follows says in its own line whether the run can go on."""
    path = Path(run_dir) / "explored_map.png"
    try:
        if envs.canvas is not None:  # the map painted from what the envs saw, visits and trails over it
            render_kanto_map(envs.canvas, envs.painted, envs.global_visit_counts(), path, envs.trails)
        else:
            render_explored_map(envs.global_visit_counts(), path)
    except OSError as e:
        print(f"warning: could not write {path} ({e.strerror or e}); training goes on", file=sys.stderr)


LIVE_MAP_PORT = 8765


LIVE_TRAIL_STEPS = 64
"""Steps of each env's trail the live page draws (the run keeps more for explored_map.png)."""


def live_trails(trails) -> list | None:
    """The last LIVE_TRAIL_STEPS samples of each env's trail (``VecEnv.trails``, a copy) as [[gx, gy] or None, ...]
    (oldest first), or None."""
    if trails is None:
        return None
    return [[None if x < 0 else [int(x), int(y)] for x, y in env] for env in trails[:, -LIVE_TRAIL_STEPS:]]


def open_live_map(cfg: TrainConfig, learner: Learner, envs, ranks: distributed.Ranks, speed: dict):
    """The live map page (watch/live.py) on 127.0.0.1, rank 0 only; None when off."""
    if cfg.live_map_port < 0 or not ranks.main:
        return None
    from pokerl_fast.watch.kanto_map import explored_map_rgb, global_position, kanto_picture_geometry
    from pokerl_fast.watch.live import LiveMap

    def state():
        pos = envs.position()
        return {"step": learner.counters.global_step * ranks.world, "sps": speed.get("sps", 0.0),
                "positions": [global_position(m, x, y) for m, x, y in zip(pos["map"], pos["x"], pos["y"])],
                "milestones": {name: step * cfg.num_envs * ranks.world
                               for name, step in envs.progress.first_step.items()},
                "trails": live_trails(envs.trails)}

    def picture():
        if envs.canvas is None:
            return explored_map_rgb(envs.global_visit_counts()), (0, 0, 1)
        return kanto_picture_geometry(envs.canvas, envs.painted, envs.global_visit_counts(), envs.trails)

    try:
        return LiveMap(cfg.live_map_port, state, picture)
    except OSError as e:
        raise TrainError(f"cannot serve the live map on 127.0.0.1:{cfg.live_map_port} ({e.strerror or e}); "
                         "pass --live-map 0 for any free port") from None
