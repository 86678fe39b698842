"""Watch a trained policy: ``python -m pokerl_fast.eval RUN_DIR_OR_CHECKPOINT [--rom PATH] [--episodes N]
[--steps N] [--greedy]``.

Loads the run's config and the policy's weights from a checkpoint (a run dir means its newest complete one), runs
the policy alone from the start state (no swarming: ``pokerl_fast.learn.policy_alone``) for N episodes side by side, and
writes into ``RUN_DIR/eval/<checkpoint>/`` (or ``--out``):

- ``eval.mp4`` (H.264 through the ffmpeg the imageio-ffmpeg wheel ships; ``--gif`` for a GIF), one frame per
  env step: env 0's screen at 3x, the next three episodes' screens at 1x in a column beside it, and a 3x window
  of the map painted from what the episodes saw around env 0, tinted where they have been, the other episodes'
  players light blue and env 0 a white square; under it a caption line: the step, env 0's return so far and
  the milestones it reached;
- ``eval_map.png``: the Kanto map as the evaluated episodes saw it (painted from their screens), their visits
  and trails over it, map names and a legend, cropped to where they went;
- ``eval.json``: per episode the return, the step each milestone was first reached, the maps visited and the
  tiles explored; over all episodes each milestone's reach rate and median step, the share of steps per map.

``--watch`` instead plays one episode in a PyBoy window (SDL2) at the game's speed (``--speed``), the policy
driving; it writes nothing. Without a display the same episode streams at the game's speed to a local page
(``--watch-port``, 127.0.0.1 only). Ctrl-C stops it and leaves no half-written file. Bad input is one line and exit code
2, as for training.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from pokerl_fast import runtime

runtime.tune_openmp()

import numpy as np  # noqa: E402
import torch  # noqa: E402

from pokerl_fast import cli  # noqa: E402
from pokerl_fast.learn.policy_alone import evaluate  # noqa: E402
from pokerl_fast.fileio import write_atomic  # noqa: E402
from pokerl_fast.watch import kanto_map  # noqa: E402
from pokerl_fast.game.red import StartStateError  # noqa: E402
from pokerl_fast.game.rom import RomError, resolve_rom  # noqa: E402
from pokerl_fast.learn import checkpoint  # noqa: E402
from pokerl_fast.learn.policy import Policy  # noqa: E402
from pokerl_fast.env.tally import format_progress_table  # noqa: E402
from pokerl_fast.config import TrainConfig  # noqa: E402
from pokerl_fast.watch.video import VideoWriter, upscale, with_caption  # noqa: E402

WINDOW = (40, 24)
"""Map steps shown below the screen in the video (width, height), TILE_PX pixels a step: 160 x 96 pixels."""
TILE_PX = 4


class EvalError(RuntimeError):
    """The evaluation cannot start; the message is one line saying what to do."""


def find_checkpoint(path: str) -> tuple[checkpoint.Checkpoint, Path]:
    """The checkpoint to evaluate and its run dir: PATH itself when it is a checkpoint (a dir with a manifest),
    else the newest complete one in PATH/checkpoints."""
    p = Path(path)
    if not p.exists():
        raise EvalError(f"cannot evaluate {path}: no such run dir or checkpoint; pass a --run-dir of a training run")
    if (p / "manifest.json").is_file():
        try:
            manifest = checkpoint.read_manifest(p)
        except checkpoint.CheckpointError as e:
            raise EvalError(f"{e}; pass the run dir to take its newest complete checkpoint") from None
        m = checkpoint.CHECKPOINT_RE.match(p.name)
        return checkpoint.Checkpoint(p, int(m.group(1)) if m else -1, manifest), p.parent.parent
    skipped: list[str] = []
    ckpt = checkpoint.latest(p / "checkpoints", skipped) if (p / "checkpoints").is_dir() else None
    if ckpt is None:
        why = f" (skipped {len(skipped)}; the newest, {skipped[0]})" if skipped else ""
        raise EvalError(f"cannot evaluate {path}: no complete checkpoint in {p / 'checkpoints'}{why}; "
                        "train first, or pass a checkpoint dir")
    for reason in skipped:
        print(f"skipping {reason}; evaluating {ckpt.path.name}", file=sys.stderr)
    return ckpt, p


def load_policy(ckpt: checkpoint.Checkpoint, cfg: TrainConfig) -> Policy:
    import gymnasium as gym

    from pokerl_fast.env.vector import observation_space

    policy = Policy.from_spaces(observation_space(cfg.env), gym.spaces.Discrete(len(cfg.env.actions)), cfg.policy)
    policy.load_state_dict(checkpoint.load(ckpt)["policy"])
    return policy.eval()


SCALE = 3
"""The filmed episode's screen and the map window are drawn 3x (nearest neighbour): readable on a laptop."""
TILED = 3
"""Other episodes shown at 1x in a column beside the filmed one (three Game Boy screens: its height at 3x)."""


class Recorder:
    """``evaluate``'s watcher: after every step one video frame: env 0's screen at 3x, the next episodes' screens
    at 1x in a column beside it, the window of the map around env 0 at 3x, and a caption line (step, env 0's
    return and the milestones it reached)."""

    def __init__(self, writer: VideoWriter | None):
        self.writer = writer
        self.positions: list[tuple[int, int] | None] = []
        self.reached: list[str] = []
        self.ret = 0.0

    def __call__(self, envs, step: int) -> None:
        info = envs.position()
        where = [kanto_map.global_position(m, x, y) for m, x, y in zip(info["map"], info["x"], info["y"])]
        self.positions.append(where[0])
        if step == 0:
            self.reached, self.ret = [], 0.0
        if envs.episode_steps[0] > 0:  # at an episode's last step the env has already begun the next one
            self.ret = float(envs.episode_returns[0])
            names = envs.milestone_names
            self.reached += [names[k] for k in np.flatnonzero(envs.episode_milestones[0] > 0)
                             if names[k] not in self.reached]
        if self.writer is None:
            return
        center = where[0] or next((p for p in reversed(self.positions) if p is not None), (0, 0))
        window = map_view(envs, center, where[1:])
        if where[0] is not None:  # env 0: a white square at the window's centre
            cy, cx = (WINDOW[1] // 2) * TILE_PX, (WINDOW[0] // 2) * TILE_PX
            window[cy:cy + TILE_PX, cx:cx + TILE_PX] = 255
        main = upscale(envs.screen(0), SCALE)
        h, w = main.shape[:2]
        sh, sw = h // TILED, w // SCALE  # one Game Boy screen at 1x
        window = upscale(window, SCALE)
        frame = np.zeros((h, w + sw + window.shape[1], 3), np.uint8)
        frame[:, :w] = main
        for k in range(1, min(envs.num_envs, TILED + 1)):
            frame[(k - 1) * sh:k * sh, w:w + sw] = envs.screen(k)
        frame[:window.shape[0], w + sw:] = window
        got = ", ".join(name.removeprefix("EVENT_") for name in self.reached) or "none yet"
        self.writer.add(with_caption(frame, f"step {step}   return {self.ret:.2f}   milestones: {got}"))


def map_view(envs, center: tuple[int, int], others) -> np.ndarray:
    """The window of the map around ``center``: the painted canvas (every fourth pixel: 4 a step) tinted by the
    evaluated episodes' visits, the other episodes' players as light blue steps."""
    stride = kanto_map.CANVAS_CELL // TILE_PX  # canvas pixels per video pixel
    counts = envs.global_visit_counts()
    heat = kanto_map.explored_map_rgb(counts)
    steps = kanto_map.map_window(heat, center, *WINDOW).astype(np.float32)
    visited = kanto_map.map_window(np.repeat((counts > 0)[..., None], 3, 2).astype(np.uint8), center, *WINDOW)[..., 0]
    if envs.canvas is not None:
        cell = kanto_map.CANVAS_CELL
        part = np.zeros((WINDOW[1] * cell, WINDOW[0] * cell), np.uint8)
        x0, y0 = (center[0] - WINDOW[0] // 2) * cell, (center[1] - WINDOW[1] // 2) * cell
        sx0, sy0 = max(x0, 0), max(y0, 0)
        sx1, sy1 = min(x0 + part.shape[1], envs.canvas.shape[1]), min(y0 + part.shape[0], envs.canvas.shape[0])
        if sx1 > sx0 and sy1 > sy0:
            part[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = envs.canvas[sy0:sy1, sx0:sx1]
        big = kanto_map.SHADES[part[::stride, ::stride]].astype(np.float32)
        seen = kanto_map.map_window(np.repeat(envs.painted[..., None], 3, 2), center, *WINDOW)[..., 0] > 0
        seen_px = seen.repeat(TILE_PX, 0).repeat(TILE_PX, 1)
        big[~seen_px] = kanto_map.UNVISITED
    else:
        big = np.empty((WINDOW[1] * TILE_PX, WINDOW[0] * TILE_PX, 3), np.float32)
        big[:] = kanto_map.UNVISITED
    tint = steps.repeat(TILE_PX, 0).repeat(TILE_PX, 1)
    v = (visited > 0).repeat(TILE_PX, 0).repeat(TILE_PX, 1)
    big[v] = 0.55 * big[v] + 0.45 * tint[v]
    x0, y0 = center[0] - WINDOW[0] // 2, center[1] - WINDOW[1] // 2
    for p in others:
        if p is not None and 0 <= p[0] - x0 < WINDOW[0] and 0 <= p[1] - y0 < WINDOW[1]:
            big[(p[1] - y0) * TILE_PX:(p[1] - y0 + 1) * TILE_PX, (p[0] - x0) * TILE_PX:(p[0] - x0 + 1) * TILE_PX] = \
                (120, 220, 255)
    return np.rint(big).astype(np.uint8)


def build_parser() -> argparse.ArgumentParser:
    parser = cli.OneLineParser(prog="python -m pokerl_fast.eval", description=__doc__,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", metavar="RUN_DIR_OR_CHECKPOINT", help="a training run's dir, or one checkpoint in it")
    parser.add_argument("--rom", help="ROM path, when the run's ROM has moved (its SHA-1 must match the run's)")
    parser.add_argument("--episodes", type=int, default=4, help="episodes run side by side (env 0 is filmed)")
    parser.add_argument("--steps", type=int, default=0,
                        help="steps per episode (0: the run's --eval-steps, else 2048)")
    parser.add_argument("--greedy", action="store_true", help="the most likely action instead of sampling")
    parser.add_argument("--seed", type=int, default=None, help="seed of the episodes (default: the run's)")
    parser.add_argument("--out", help="output dir (default: RUN_DIR/eval/<checkpoint>)")
    parser.add_argument("--fps", type=float, default=15.0, help="video frames per second (one frame per env step)")
    parser.add_argument("--gif", action="store_true", help="write a GIF instead of an MP4")
    parser.add_argument("--no-video", action="store_true", help="only eval.json and eval_map.png")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--watch", action="store_true",
                        help="play one episode in a PyBoy window at the game's speed instead (needs a display)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="with --watch: times the Game Boy's speed (1: real time; 0: as fast as it can)")
    parser.add_argument("--watch-port", type=int, default=8766,
                        help="with --watch and no display: the local page's port on 127.0.0.1 (0: any free one)")
    return parser


def watch_in_a_window(args: argparse.Namespace, ckpt: checkpoint.Checkpoint, cfg: TrainConfig, steps: int,
                      seed: int) -> dict:
    """--watch: one episode in a PyBoy window (watch/window.py); nothing is written."""
    from pokerl_fast.watch.window import watch_episode

    from pokerl_fast.watch.window import FrameServer

    policy = load_policy(ckpt, cfg)
    page = None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        try:
            page = FrameServer(args.watch_port)
        except OSError as e:
            raise EvalError(f"no display, and the watch page cannot listen on 127.0.0.1:{args.watch_port} "
                            f"({e.strerror or e}); pass --watch-port 0 for any free port") from None
        print(f"no display: the episode streams to {page.url} (open it in a browser)", flush=True)
    where = "on " + page.url if page else "in a window"
    print(f"watching {ckpt.path.name} {where}: one episode of up to {steps} steps at {args.speed:g}x the game's "
          "speed (Ctrl-C stops)", flush=True)
    show = None if page is None else (lambda view, t, ret: page.show(view.screen.ndarray[:, :, :3], t, ret))
    try:
        result = watch_episode(policy, cfg.env, steps=steps, seed=seed, speed=args.speed, greedy=args.greedy,
                               window="SDL2" if page is None else "null", on_step=show)
    finally:
        if page is not None:
            page.close()
    print(f"episode: {result['steps']} steps, return {result['return']:.2f}"
          + (f" ({result['resynced']} steps re-synchronised from the env)" if result["resynced"] else ""))
    return result


def run(args: argparse.Namespace) -> dict:
    if args.episodes < 1 or args.steps < 0 or args.fps <= 0 or args.speed < 0:
        raise EvalError(f"--episodes must be >= 1, --steps >= 0, --fps > 0 and --speed >= 0 (got {args.episodes}, "
                        f"{args.steps}, {args.fps}, {args.speed})")
    ckpt, run_dir = find_checkpoint(args.path)
    cfg = cli.merge(TrainConfig(), ckpt.meta["config"], "checkpoint config")
    if args.rom:
        cfg = dataclasses.replace(cfg, env=dataclasses.replace(cfg.env, rom=str(Path(args.rom).resolve())))
    rom = resolve_rom(cfg.env.rom)
    if rom.sha1 != ckpt.meta["rom_sha1"]:
        raise EvalError(f"cannot evaluate {ckpt.path}: it was trained on ROM sha1 {ckpt.meta['rom_sha1']}, "
                        f"but {rom.path} has sha1 {rom.sha1}; pass the run's ROM with --rom")
    steps = args.steps or cfg.eval_steps or 2048
    seed = cfg.env.seed if args.seed is None else args.seed
    if args.watch:
        return watch_in_a_window(args, ckpt, cfg, steps, seed)
    out = Path(args.out) if args.out else run_dir / "eval" / ckpt.path.name
    made = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EvalError(f"cannot write {out}: {e.strerror or e}; pass --out with a writable dir") from None
    policy = load_policy(ckpt, cfg)
    # PyBoy draws the full-resolution screen only in "pyboy" mode; the policy sees the same picture either way.
    # The map is painted from every step's view (paint_interval 1) for the video's window and eval_map.png.
    env_cfg = dataclasses.replace(cfg.env, paint_interval=1,
                                  screen_source=cfg.env.screen_source if args.no_video else "pyboy")
    writer = None if args.no_video else VideoWriter(out / "eval", fps=args.fps, gif=args.gif)
    recorder = Recorder(writer)
    bar = None
    if not args.no_progress and sys.stdout.isatty():
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task(f"evaluating {ckpt.path.name}", total=steps)
        bar.start()

    counts = {}

    def watch(envs, step):
        recorder(envs, step)
        if bar is not None:
            bar.update(task, completed=step)
        if step == steps:
            counts["picture"] = kanto_map.envs_picture(envs)

    try:
        result = evaluate(policy, env_cfg, episodes=args.episodes, steps=steps, seed=seed, greedy=args.greedy,
                          watch=watch)
    except BaseException:
        if writer is not None:
            writer.abort()
        if made and not any(out.iterdir()):
            out.rmdir()  # nothing of this evaluation is left
        raise
    finally:
        if bar is not None:
            bar.stop()
    files = {"map": kanto_map.write_png(counts["picture"], out / "eval_map.png").name}
    if writer is not None:
        files["video"] = writer.close().name
    report = {"checkpoint": str(ckpt.path), "global_step": ckpt.meta.get("global_step"), "rom_sha1": rom.sha1,
              "files": files, **result}
    write_atomic(out / "eval.json", json.dumps(report, indent=1).encode())
    print(format_progress_table(result, f"evaluation of {ckpt.path.name} ({args.episodes} episodes x {steps} steps)"))
    for i, ep in enumerate(result["per_episode"]):
        got = ", ".join(f"{k.removeprefix('EVENT_')} @{v}" for k, v in ep["milestones"].items()) or "no milestone"
        print(f"  episode {i}: return {ep['return']:.2f}, {ep['tiles']} tiles, {len(ep['maps'])} maps; {got}")
    print(f"wrote {out}: " + ", ".join(files.values()) + ", eval.json")
    return report


def main(argv: list[str] | None = None) -> int:
    return cli.run_main(lambda: run(build_parser().parse_args(argv)),
                        (EvalError, cli.ConfigError, checkpoint.CheckpointError, RomError, StartStateError),
                        "interrupted; nothing was written for this evaluation's video")

