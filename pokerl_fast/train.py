"""Train a recurrent PPO agent: ``python -m pokerl_fast.train`` (defaults: the bundled test world).

The run directory gets the resolved config (``config.yaml``), TensorBoard event files and ``checkpoints/``.
A checkpoint is written every ``--checkpoint-minutes`` and when the run ends, including on Ctrl-C or SIGTERM
(the trainer stops after the current env step, or after the current update, and saves). ``--resume RUN_DIR``
continues from the newest complete checkpoint exactly where it stopped: same weights, optimizer, counters, RNG
states, LSTM states, partial rollout and emulator states. An unexpected error writes no checkpoint: the newest
complete one stays, and resuming repeats the steps after it.

Config layering, later wins: defaults < the resumed run's config < ``--config file.yaml`` < command-line flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import math
import os
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

import pokerl_fast
from pokerl_fast import cli
from pokerl_fast.learn import checkpoint
from pokerl_fast.config import EnvConfig
from pokerl_fast.game.kanto_map import render_explored_map
from pokerl_fast.logger import EpisodeStats, LoggerError, RunLogger
from pokerl_fast.learn.policy import Policy, PolicyConfig
from pokerl_fast.game.rom import RomError, resolve_rom
from pokerl_fast.learn.ppo import (
    Batch,
    Carry,
    PPOConfig,
    Rollout,
    bootstrap_value,
    check_sizes,
    collect_rollout,
    compute_gae,
    obs_to_torch,
    ppo_update,
)


@dataclass
class TrainConfig:
    """Everything a training run needs. Torch, numpy and Python RNGs are seeded with ``env.seed`` (``--seed``)."""

    run_dir: str | None = None
    """directory for config.yaml, checkpoints and TensorBoard logs (none: runs/<date>-<time>)"""
    total_steps: int = 2_000_000
    """env steps to train for, summed over envs (rounded up to whole rollouts)"""
    num_envs: int = 16
    """emulators stepped in parallel (16 keeps 2 cores busy with rollouts of num_envs * num_steps = 2048 steps)"""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """where the policy runs; auto: cuda when available, else cpu"""
    torch_threads: int = 0
    """torch CPU threads (0: torch's default, one per core)"""
    deterministic: bool = False
    """torch.use_deterministic_algorithms: with torch_threads 1 a resumed run repeats an uninterrupted one exactly"""
    checkpoint_minutes: float = 10.0
    """write a checkpoint after the first update that ends this many minutes after the last one"""
    checkpoint_iterations: int = 0
    """also write one every this many updates (0: off)"""
    map_png_iterations: int = 10
    """write run_dir/explored_map.png (visits of all envs on the global Kanto map) every this many updates and at each checkpoint (0: only at checkpoints)"""
    keep_checkpoints: int = 3
    """checkpoints kept in run_dir/checkpoints (oldest deleted first; 0 keeps all)"""
    progress: bool = True
    """show a progress bar (only when stdout is a terminal; otherwise a status line every 10 s)"""
    wandb: bool = False
    """also log to Weights & Biases (needs the wandb package and network access)"""
    wandb_project: str = "pokerl_fast"
    """W&B project name"""
    env: EnvConfig = field(default_factory=EnvConfig)
    """environment"""
    ppo: PPOConfig = field(default_factory=PPOConfig)
    """PPO"""
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    """network"""

    # Derived sizes, computed in one place (CleanRL's batch_size / minibatch_size / num_iterations).
    @property
    def batch_size(self) -> int:
        """env steps per rollout"""
        return self.num_envs * self.ppo.num_steps

    @property
    def num_segments(self) -> int:
        """BPTT segments per rollout"""
        return self.batch_size // self.ppo.bptt

    @property
    def minibatch_size(self) -> int:
        """env steps per minibatch"""
        return self.batch_size // self.ppo.num_minibatches

    @property
    def num_iterations(self) -> int:
        """rollout + update cycles"""
        return max(1, math.ceil(self.total_steps / self.batch_size))

    def validate(self) -> None:
        """Raise ValueError with a one-line fix for any bad value."""
        self.env.validate()
        if self.num_envs < 1:
            raise ValueError(f"num_envs must be >= 1 (got {self.num_envs})")
        if self.total_steps < 1:
            raise ValueError(f"total_steps must be >= 1 (got {self.total_steps})")
        check_sizes(self.ppo, self.num_envs)
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device cuda was asked for but torch sees no CUDA GPU; use --device cpu or auto")


# Fields a resumed run may change; any other difference from the checkpoint's config is refused.
RESUMABLE_CHANGES = frozenset({
    "run_dir", "total_steps", "device", "torch_threads", "deterministic", "checkpoint_minutes",
    "checkpoint_iterations", "keep_checkpoints", "progress", "wandb", "wandb_project", "map_png_iterations",
    "env.num_threads", "env.rom", "env.start_state",
})  # fmt: skip


class TrainError(RuntimeError):
    """The run cannot start or resume; the message is one line saying what to do."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def check_resume(saved: dict, asked: dict, run_dir: str) -> None:
    """Refuse a resume whose config differs from the checkpoint's in a field that changes the run."""
    bad = [d for d in cli.diff(saved, asked) if d[0] not in RESUMABLE_CHANGES]
    if bad:
        name, was, now = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise TrainError(
            f"cannot resume {run_dir}: it was trained with {name}={was!r}, this run asks {now!r}{more}; "
            f"drop that option or start a new run in another --run-dir"
        )


def check_rom(saved_sha1: str, rom: str | None, run_dir: str) -> None:
    info = resolve_rom(rom)
    if info.sha1 != saved_sha1:
        raise TrainError(
            f"cannot resume {run_dir}: its checkpoint was made with ROM sha1 {saved_sha1}, but {info.path} has sha1 "
            f"{info.sha1}; pass the ROM the run was trained on with --rom"
        )


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class Counters:
    global_step: int = 0
    """env steps so far, summed over envs"""
    iteration: int = 0
    """completed rollout + update cycles"""
    rollout_step: int = 0
    """steps of the current rollout already collected (non-zero only in a checkpoint written mid-rollout)"""


class _StopOnSignal:
    """First SIGINT/SIGTERM sets ``stop`` (the loop saves and exits); a second SIGINT aborts at once.

    The handler only sets flags: printing from a signal handler can re-enter a stream that is mid-write.
    """

    def __init__(self, stop: threading.Event):
        self.stop, self.previous = stop, {}
        self.received: str | None = None

    def _handle(self, signum, frame):
        if self.received is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.received = signal.Signals(signum).name
        self.stop.set()

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def train(cfg: TrainConfig, resume: checkpoint.Checkpoint | None = None, stop: threading.Event | None = None) -> dict:
    """Run PPO until ``total_steps`` or until ``stop`` is set (or SIGINT/SIGTERM). Returns a summary dict."""
    from pokerl_fast.env import VecEnv

    try:
        cfg.validate()
    except ValueError as e:
        raise TrainError(str(e)) from None
    stop = stop or threading.Event()
    run_dir = Path(cfg.run_dir or Path("runs") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    cfg = dataclasses.replace(cfg, run_dir=str(run_dir))
    ckpt_dir = run_dir / "checkpoints"
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint.clean_leftovers(ckpt_dir)
    (run_dir / "config.yaml").write_text(cli.dump_yaml(cfg))

    if cfg.deterministic:
        # MKL's GEMM results depend on memory alignment (they differ by an ulp between a fresh and a resumed
        # process) unless its conditional numerical reproducibility mode is on. MKL reads the variable when it
        # first runs, so this works in a fresh process such as the CLI's; set MKL_CBWR yourself otherwise.
        os.environ.setdefault("MKL_CBWR", "COMPATIBLE")
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    torch.use_deterministic_algorithms(cfg.deterministic)
    device = resolve_device(cfg.device)
    seed_everything(cfg.env.seed)

    envs = VecEnv(cfg.num_envs, cfg.env)
    logger = None
    try:
        policy = Policy.from_spaces(envs.single_observation_space, envs.single_action_space, cfg.policy).to(device)
        optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.ppo.learning_rate, eps=cfg.ppo.adam_eps)
        buf = Rollout(
            envs.single_observation_space, cfg.ppo.num_steps, cfg.num_envs, cfg.policy.hidden_size, cfg.ppo.bptt, device
        )
        stats = EpisodeStats(envs.reward_terms, envs.milestone_names)
        counters = Counters()

        if resume is None:
            obs, _ = envs.reset(seed=cfg.env.seed)
            carry = Carry(obs_to_torch(obs, device), torch.zeros(cfg.num_envs, device=device),
                          policy.initial_state(cfg.num_envs, device))
        else:
            snap = checkpoint.load(resume)
            policy.load_state_dict(snap["policy"])
            optimizer.load_state_dict(snap["optimizer"])
            counters = Counters(**snap["counters"])
            if counters.rollout_step:
                buf.load_tensors(snap["rollout"])
            envs.set_state(snap["env"])
            c = snap["carry"]
            carry = Carry({k: v.to(device) for k, v in c["obs"].items()}, c["done"].to(device),
                          (c["lstm_h"].to(device), c["lstm_c"].to(device)))
            stats.load_state_dict(snap["stats"])
            set_rng_state(snap["rng"])

        logger = RunLogger(
            run_dir, cfg.num_iterations * cfg.batch_size, counters.global_step, wandb=cfg.wandb,
            wandb_project=cfg.wandb_project, config=cli.to_dict(cfg), progress=cfg.progress,
        )
        logger.message(
            f"policy: {policy.num_parameters():,} parameters | {cfg.num_envs} envs x {cfg.ppo.num_steps} steps, "
            f"{cfg.num_iterations} iterations | device {device} | run dir {run_dir}"
            + (f" | resumed at step {counters.global_step}" if resume else "")
        )

        def save() -> Path:
            snapshot = {
                "policy": policy.state_dict(),
                "optimizer": optimizer.state_dict(),
                "counters": dataclasses.asdict(counters),
                "rng": rng_state(),
                "carry": {"obs": carry.obs, "done": carry.done, "lstm_h": carry.lstm[0], "lstm_c": carry.lstm[1]},
                "rollout": buf.tensors() if counters.rollout_step else {},
                "env": envs.get_state(),
                "stats": stats.state_dict(),
            }
            meta = {
                "config": cli.to_dict(cfg),
                "rom_sha1": envs.rom_sha1,
                "version": pokerl_fast.__version__,
                "torch": torch.__version__,
                "global_step": counters.global_step,
                "iteration": counters.iteration,
                "saved_at": datetime.datetime.now().isoformat(timespec="seconds"),
            }
            write_map()
            return checkpoint.save(ckpt_dir, counters.global_step, snapshot, meta, keep=cfg.keep_checkpoints)

        def write_map() -> None:
            render_explored_map(envs.global_visit_counts(), run_dir / "explored_map.png")

        logged_milestones = set(envs.milestones)  # after a resume, the ones already logged

        start_time, start_step = time.monotonic(), counters.global_step
        last_save_time, last_saved = time.monotonic(), (counters.global_step, counters.rollout_step)
        last_path = resume.path if resume is not None else None
        losses: dict[str, float] = {}
        scalars: dict[str, float] = {}
        with _StopOnSignal(stop) as signals:
            while counters.iteration < cfg.num_iterations and not stop.is_set():
                if cfg.ppo.anneal_lr and counters.rollout_step == 0:
                    frac = 1.0 - counters.iteration / cfg.num_iterations
                    optimizer.param_groups[0]["lr"] = frac * cfg.ppo.learning_rate

                t0 = time.monotonic()
                counters.rollout_step, counters.global_step = collect_rollout(
                    policy, envs, buf, carry, counters.rollout_step, stats, counters.global_step, stop
                )
                if counters.rollout_step < cfg.ppo.num_steps:
                    break  # stopped mid-rollout: the checkpoint below keeps the partial rollout

                t1 = time.monotonic()
                next_value = bootstrap_value(policy, carry)
                advantages, returns = compute_gae(
                    buf.rewards, buf.values, buf.dones, next_value, carry.done, cfg.ppo.gamma, cfg.ppo.gae_lambda
                )
                losses = ppo_update(policy, optimizer, Batch.from_rollout(buf, advantages, returns), cfg.ppo)
                counters.iteration += 1
                counters.rollout_step = 0
                t2 = time.monotonic()

                scalars = {f"losses/{k}": v for k, v in losses.items() if k != "loss"}
                scalars.update(stats.drain())
                scalars["charts/learning_rate"] = optimizer.param_groups[0]["lr"]
                scalars["charts/SPS"] = (counters.global_step - start_step) / max(time.monotonic() - start_time, 1e-9)
                scalars["perf/rollout_seconds"] = t1 - t0
                scalars["perf/update_seconds"] = t2 - t1
                scalars.update({f"helpers/{k}": float(v) for k, v in envs.helper_counts().items()})
                # Named milestones (each required event, each badge): the global step any env first reached it.
                for name, vector_step in envs.milestones.items():
                    if name not in logged_milestones:
                        logged_milestones.add(name)
                        scalars[f"milestones/first_step/{name}"] = float(vector_step * cfg.num_envs)
                        logger.message(f"milestone {name} first reached at step {vector_step * cfg.num_envs}")
                logger.log(scalars, counters.global_step)
                if cfg.map_png_iterations and counters.iteration % cfg.map_png_iterations == 0:
                    write_map()
                logger.status(counters.global_step, stats.last | scalars)

                every = cfg.checkpoint_iterations
                if (every and counters.iteration % every == 0) or (
                    time.monotonic() - last_save_time >= cfg.checkpoint_minutes * 60
                ):
                    logger.flush()
                    last_path = save()
                    last_save_time, last_saved = time.monotonic(), (counters.global_step, 0)

            if (counters.global_step, counters.rollout_step) != last_saved:
                logger.flush()
                last_path = save()
        stopped = counters.iteration < cfg.num_iterations
        if stopped:
            reason = f"{signals.received}: " if signals.received else ""
            logger.message(f"{reason}stopped at step {counters.global_step} and saved a checkpoint; continue with: "
                           f"python -m pokerl_fast.train --resume {run_dir}")
        return {
            "run_dir": str(run_dir),
            "global_step": counters.global_step,
            "iteration": counters.iteration,
            "stopped": stopped,
            "checkpoint": str(last_path) if last_path else None,
            "losses": losses,
            "scalars": scalars,
            "stats": dict(stats.last),
            "best": dict(stats.best),
        }
    finally:
        if logger is not None:
            logger.close()
        envs.close()


def build_parser() -> tuple[argparse.ArgumentParser, list[cli.Leaf]]:
    parser = argparse.ArgumentParser(
        prog="python -m pokerl_fast.train",
        usage="%(prog)s [--config FILE.yaml] [--resume RUN_DIR] [--OPTION VALUE ...]",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", metavar="FILE.yaml",
                        help="YAML file of option values (sections as mappings, e.g. ppo: {gamma: 0.99})")
    parser.add_argument("--resume", metavar="RUN_DIR",
                        help="continue the run in RUN_DIR from its newest complete checkpoint; only "
                             + ", ".join(sorted(RESUMABLE_CHANGES)) + " may differ from the saved config")
    leaves = cli.add_config_flags(parser, TrainConfig)
    return parser, leaves


def config_from_args(argv: list[str] | None = None) -> tuple[TrainConfig, checkpoint.Checkpoint | None]:
    """Parse the command line into a resolved config and, with --resume, the checkpoint to continue from."""
    parser, leaves = build_parser()
    ns = parser.parse_args(argv)
    overrides = cli.overrides_from_args(ns, leaves)
    cfg = TrainConfig()
    ckpt = None
    saved = None
    if ns.resume:
        ckpt = checkpoint.latest(Path(ns.resume) / "checkpoints")
        if ckpt is None:
            raise TrainError(
                f"cannot resume {ns.resume}: no complete checkpoint in {Path(ns.resume) / 'checkpoints'}; "
                "start a new run with --run-dir instead"
            )
        saved = ckpt.meta["config"]
        cfg = cli.merge(cfg, saved, "checkpoint config")
    if ns.config:
        cfg = cli.merge(cfg, cli.load_yaml(ns.config), ns.config)
    cfg = cli.merge(cfg, overrides, "command line")
    if ns.resume:
        if overrides.get("run_dir") not in (None, ns.resume) and Path(overrides["run_dir"]) != Path(ns.resume):
            raise TrainError("--resume RUN_DIR continues in RUN_DIR; drop --run-dir")
        cfg = dataclasses.replace(cfg, run_dir=ns.resume)
        check_resume(saved, cli.to_dict(cfg), ns.resume)
        check_rom(ckpt.meta["rom_sha1"], cfg.env.rom, ns.resume)
    return cfg, ckpt


def main(argv: list[str] | None = None) -> int:
    try:
        cfg, ckpt = config_from_args(argv)
        train(cfg, resume=ckpt)
    except (TrainError, cli.ConfigError, checkpoint.CheckpointError, RomError, LoggerError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the newest complete checkpoint is kept", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
