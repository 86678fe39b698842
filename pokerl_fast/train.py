"""Train a recurrent PPO agent: ``python -m pokerl_fast.train`` (defaults: the bundled test world).

The run directory gets the resolved config (``config.yaml``), TensorBoard event files, ``checkpoints/`` and, when
the run ends (also when stopped), ``progress.json``: the run's progress account (per milestone the share of ended
episodes that earned it and their median step, the share of env steps on each map, the stuck share; printed as a
table too) and the last periodic evaluation (``--eval-interval``: the policy alone from the start state).
A checkpoint is written every ``--checkpoint-minutes`` and when the run ends, including on Ctrl-C or SIGTERM
(the trainer stops after the current env step, or after the current update, and saves). ``--resume RUN_DIR``
continues from the newest complete checkpoint exactly where it stopped: same weights, optimizer, counters, RNG
states, LSTM states, partial rollout and emulator states. An unexpected error writes no checkpoint: the newest
complete one stays, and resuming repeats the steps after it.

Config layering, later wins: defaults < the resumed run's config < ``--config file.yaml`` < command-line flags.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import datetime
import io
import json
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

from pokerl_fast import runtime

# Before torch loads libgomp, which reads its spin count once (runtime's docstring has the measurements).
runtime.tune_openmp()

import numpy as np  # noqa: E402
import torch  # noqa: E402

import pokerl_fast
from pokerl_fast import cli
from pokerl_fast.learn import checkpoint, distributed
from pokerl_fast.config import EnvConfig
from pokerl_fast.fileio import write_atomic
from pokerl_fast.game.kanto_map import render_explored_map, render_kanto_map, screens_to_rgb
from pokerl_fast.logger import EpisodeStats, LoggerError, RunLogger, format_progress_table, summary_scalars
from pokerl_fast.learn.policy import Policy, PolicyConfig
from pokerl_fast.game.red import StartStateError
from pokerl_fast.game.rom import RomError, resolve_rom
from pokerl_fast.game.testworld import WORLDS
from pokerl_fast.video import VideoWriter
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


def training_env() -> EnvConfig:
    """The trainer's env defaults: the progress mechanisms chosen from the ablations on the benchmark world
    (docs/learning.md: round 1 turned on every mechanism, each of which raised what the policy earns alone from
    the start state; round 3 added swarming by cells of 8x8 steps, which reached the lab's milestones 2x sooner and
    the parcel, its delivery and Brock sooner over 3 seeds of 1M steps, and adaptive steps, which on top of cells
    reached Brock in all 3 seeds, in fewer steps and frames). The stuck detector marks and logs stuck envs but
    does not end their episodes: on the real game ending them cut every episode in the text and the battle
    between the starter and the lab's rival event (../shared/notes/real-game.md, 2026-12-07), while the benchmark
    world, which has no such stretch, had measured it helpful. ``EnvConfig()`` itself keeps every mechanism off,
    for env users and tests."""
    return EnvConfig(episode_length=16384, explore_reset_interval=2048, swarm_interval=512, reset_to_archive=0.25,
                     swarm_cell_size=8, swarm_archive_size=512, explore_boost=3.0, observe_progress=True,
                     stuck_steps=256, stuck_ends_episode=False, adaptive_steps=True, paint_interval=16, clip_steps=25)


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
    """torch CPU threads (0: one per CPU this process may use: its affinity mask, capped by a cgroup quota)"""
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
    eval_interval: int = 0
    """evaluate the policy alone (from the start state, no swarming) every this many updates, logged as eval/...
    and kept in progress.json (0: off)"""
    eval_episodes: int = 8
    """episodes per evaluation, run as one batch of envs"""
    eval_steps: int = 0
    """steps per evaluation episode (0: env.episode_length)"""
    overlap: Literal["auto", "on", "off"] = "auto"
    """learn from one rollout while the envs collect the next (the policy the envs act with is one update behind;
    PPO's ratio is taken against the log-probs they acted with): on a GPU the update runs on its own CUDA stream
    while the CPUs step the emulators. auto: on with --device cuda (not under torchrun), off on CPU, where the
    update and the emulators would share the same cores"""
    live_map_port: int = -1
    """serve the live map page on http://127.0.0.1:PORT/ (0: any free port, -1: off; --live-map [PORT] is the
    short form, port 8765 by default)"""
    env: EnvConfig = field(default_factory=training_env)
    """environment (the trainer's defaults turn the progress mechanisms on: see training_env)"""
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
        if self.eval_interval < 0:
            raise ValueError(f"eval_interval must be >= 0 (got {self.eval_interval}); 0 turns evaluation off")
        if self.eval_episodes < 1:
            raise ValueError(f"eval_episodes must be >= 1 (got {self.eval_episodes})")
        if self.eval_steps < 0:
            raise ValueError(f"eval_steps must be >= 0 (got {self.eval_steps}); 0 means env.episode_length")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device cuda was asked for but torch sees no CUDA GPU; use --device cpu or auto")


# Fields a resumed run may change; any other difference from the checkpoint's config is refused.
RESUMABLE_CHANGES = frozenset({
    "run_dir", "total_steps", "device", "torch_threads", "deterministic", "checkpoint_minutes",
    "checkpoint_iterations", "keep_checkpoints", "progress", "wandb", "wandb_project", "map_png_iterations",
    "env.num_threads", "env.rom", "env.start_state", "eval_interval", "eval_episodes", "eval_steps",
    "env.paint_interval", "env.clip_steps", "live_map_port",  # what is drawn, not what is learned
})  # fmt: skip


class TrainError(RuntimeError):
    """The run cannot start or resume; the message is one line saying what to do."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def check_resume(saved: dict, asked: dict, run_dir: str) -> None:
    """Refuse a resume whose config differs from the checkpoint's in a field that changes the run. A field the
    saved config lacks (added to the trainer after that run began) takes today's default, which keeps the
    behaviour it had then (new mechanisms default to off, or change only what is drawn)."""
    known = set(_leaf_names(saved))
    bad = [d for d in cli.diff(saved, asked) if d[0] not in RESUMABLE_CHANGES and d[0] in known]
    if bad:
        name, was, now = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise TrainError(
            f"cannot resume {run_dir}: it was trained with {name}={was!r}, this run asks {now!r}{more}; "
            f"drop that option or start a new run in another --run-dir"
        )


def _leaf_names(tree: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in tree.items():
        out += _leaf_names(value, f"{prefix}{key}.") if isinstance(value, dict) else [f"{prefix}{key}"]
    return out


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


@dataclass
class Learner:
    """What the loop trains and a checkpoint keeps besides the envs: the network, its optimizer, the rollout
    buffer, the recurrent carry (last observation, done flags, LSTM state), counters and episode statistics."""

    policy: Policy
    optimizer: torch.optim.Optimizer
    rollout: Rollout
    counters: Counters
    stats: EpisodeStats
    batch: Batch
    """the rollout cut into BPTT segments, refilled every update"""
    minibatch: Batch
    """one minibatch of segments, refilled for every gradient step"""
    carry: Carry | None = None
    last_eval: dict | None = None
    """the latest periodic evaluation's result (``evaluate``'s dict plus global_step and iteration)"""
    overlap: Overlap | None = None
    """with overlap: the acting policy, the rollout being learned from, and the update's own RNG and stream"""


@dataclass
class Overlap:
    """What learning from one rollout while collecting the next needs besides a plain learner."""

    actor: Policy
    """the copy of the policy the envs act with (the learner's weights after the last finished update)"""
    pending: Rollout
    """the complete rollout waiting to be (or being) learned from; the learner's own buffer collects the next"""
    pending_carry: Carry
    """the carry at the end of ``pending``: the observation its value is bootstrapped from"""
    generator: torch.Generator
    """the update's minibatch shuffles (the rollout's action draws keep torch's global RNG, on another thread)"""
    stream: torch.cuda.Stream | None = None
    """the update's CUDA stream (None on CPU)"""
    has_pending: bool = False
    losses: dict[str, float] = field(default_factory=dict)
    """the finished update's losses, logged when the rollout beside it is complete (kept across a stop)"""


# Memory a run takes, measured with default training on the test world (peak RSS, the 2-core machine): ~450 MiB
# for the process with torch, the policy and its optimizer; each emulator ~1.2 MiB beside its own copy of the
# ROM; every env step of a rollout kept three times (the buffer, the batch cut into segments, a minibatch); the
# update's activations ~0.5 MiB per minibatch env step (706 MiB peak at 512 per minibatch, 527 MiB at 128).
BASE_BYTES = 450 << 20
EMULATOR_BYTES = 1_250_000
ACTIVATION_BYTES = 500_000
STEP_SCALARS_BYTES = 40  # action, log-prob, value, reward, done, advantage, return


RUN_DIR_FIX = "pass --run-dir a new folder in a place you can write to"


def estimate_memory(cfg: TrainConfig, rom_bytes: int, overlap: bool = False) -> dict[str, int]:
    """Bytes the run will need, by part (``emulators``, ``rollout``, ``update``, ``process``). The rollout part
    counts the rollout, the update's batch and its minibatch copies, and with ``overlap`` the rollout waiting for
    its update while the next one is collected."""
    from pokerl_fast.env import observation_space

    step = sum(math.prod(s.shape) * np.dtype(s.dtype).itemsize for s in observation_space(cfg.env).values())
    return {
        "emulators": cfg.num_envs * (EMULATOR_BYTES + rom_bytes),
        "rollout": (3 + overlap) * cfg.batch_size * (step + STEP_SCALARS_BYTES),
        "update": cfg.minibatch_size * ACTIVATION_BYTES,
        "process": BASE_BYTES,
    }


def check_memory(cfg: TrainConfig, rom_bytes: int, available: int | None, overlap: bool = False) -> None:
    """Refuse a run whose estimate (``estimate_memory``) exceeds the memory available, with the estimate shown."""
    need = estimate_memory(cfg, rom_bytes, overlap)
    total = sum(need.values())
    if available is None or total <= available:
        return
    gib = lambda n: f"{n / 2**30:.1f} GiB"  # noqa: E731
    parts = ", ".join(f"{k} {gib(v)}" for k, v in need.items())
    raise TrainError(f"{cfg.num_envs} envs x {cfg.ppo.num_steps} steps need about {gib(total)} of memory ({parts}) "
                     f"but {gib(available)} is available; lower --num-envs or --num-steps")


def check_run_dir(run_dir: Path, resuming: bool) -> None:
    """Refuse a run dir that is a file or under one, or that holds another run's checkpoints (a new run there
    would prune them); nothing is created (``prepare_run_dir`` makes it, and says so if it cannot)."""
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainError(f"run dir {run_dir} is a file, not a folder; {RUN_DIR_FIX}")
    if run_dir.is_dir() and not resuming and checkpoint.candidates(run_dir / "checkpoints"):
        raise TrainError(f"run dir {run_dir} already holds a run's checkpoints; continue it with "
                         f"--resume {run_dir} or pass another --run-dir")
    parent = run_dir.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise TrainError(f"cannot make run dir {run_dir}: {parent} is a file, not a folder; {RUN_DIR_FIX}")


def check_live_map_port(port: int) -> None:
    """A --live-map port that another program holds is refused before anything is written."""
    if port <= 0:
        return
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            raise TrainError(f"cannot serve the live map on 127.0.0.1:{port} ({e.strerror or e}); "
                             "pass --live-map 0 for any free port") from None


def check_inputs(cfg: TrainConfig, resuming: bool) -> tuple[TrainConfig, bytes]:
    """Every check a run's inputs get before anything is written: the config's values, the ROM, the memory the
    run needs, the run dir (named here: default runs/<date>-<time>), and the start state (the user's file checked
    against the ROM, else made from the ROM). Raises TrainError, RomError or StartStateError with one line.
    Returns the config with ``run_dir`` set, and the start state."""
    from pokerl_fast.env import load_start_state

    try:
        cfg.validate()
    except ValueError as e:
        raise TrainError(str(e)) from None
    rom = resolve_rom(cfg.env.rom)
    check_memory(cfg, rom.path.stat().st_size, runtime.available_memory(),
                 overlapping(cfg, resolve_device(cfg.device), distributed.from_environment()))
    check_live_map_port(cfg.live_map_port)
    run_dir = resolve_path(cfg.run_dir or Path("runs") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    check_run_dir(Path(run_dir), resuming)
    env = dataclasses.replace(
        cfg.env, start_state=resolve_path(cfg.env.start_state) if cfg.env.start_state is not None else None,
        rom=cfg.env.rom if cfg.env.rom is None or cfg.env.rom in WORLDS and not Path(cfg.env.rom).exists()
        else resolve_path(cfg.env.rom))
    return dataclasses.replace(cfg, run_dir=run_dir, env=env), load_start_state(env, rom)


def resolve_path(path: str | os.PathLike) -> str:
    """``path`` absolute, ``~`` expanded and ``..`` resolved: what the config keeps, so a resume from another
    folder reads and writes where the run started."""
    return str(Path(path).expanduser().resolve())


def prepare_run_dir(cfg: TrainConfig) -> None:
    """Create the run directory (checked by ``check_inputs``), drop a killed run's half-written checkpoints and
    write the resolved config.yaml; TrainError in one line when the folder cannot be made or written."""
    run_dir = Path(cfg.run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        checkpoint.clean_leftovers(run_dir / "checkpoints")
        write_atomic(run_dir / "config.yaml", cli.dump_yaml(cfg).encode())
    except OSError as e:
        raise TrainError(f"cannot write run dir {run_dir} ({e.strerror or e}); {RUN_DIR_FIX}") from None


def configure_torch(cfg: TrainConfig) -> torch.device:
    """Threads and determinism as asked; returns the device the policy runs on."""
    if cfg.deterministic:
        # MKL's GEMM results depend on memory alignment (they differ by an ulp between a fresh and a resumed
        # process) unless its conditional numerical reproducibility mode is on. MKL reads the variable when it
        # first runs, so this works in a fresh process such as the CLI's; set MKL_CBWR yourself otherwise.
        os.environ.setdefault("MKL_CBWR", "COMPATIBLE")
    torch.set_num_threads(cfg.torch_threads or runtime.available_cpus())
    runtime.keep_freed_memory()
    torch.use_deterministic_algorithms(cfg.deterministic)
    return resolve_device(cfg.device)


def new_learner(cfg: TrainConfig, envs, device: torch.device, overlap: bool = False) -> Learner:
    """A freshly initialised policy (from the seeded torch RNG), its optimizer and an empty rollout buffer (two,
    and an acting copy of the policy, with ``overlap``)."""
    policy = Policy.from_spaces(envs.single_observation_space, envs.single_action_space, cfg.policy).to(device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.ppo.learning_rate, eps=cfg.ppo.adam_eps)
    new_rollout = lambda: Rollout(  # noqa: E731
        envs.single_observation_space, cfg.ppo.num_steps, cfg.num_envs, cfg.policy.hidden_size, cfg.ppo.bptt, device
    )
    rollout = new_rollout()
    batch = Batch.empty(rollout, cfg.num_segments)
    learner = Learner(policy, optimizer, rollout, Counters(), EpisodeStats(envs.reward_terms, envs.milestone_names),
                      batch, Batch.empty(batch, cfg.num_segments // cfg.ppo.num_minibatches))
    if overlap:
        carry = Carry({k: v[0].clone() for k, v in rollout.obs.items()}, rollout.dones[0].clone(),
                      policy.initial_state(cfg.num_envs, device))
        learner.overlap = Overlap(copy.deepcopy(policy), new_rollout(), carry,
                                  torch.Generator().manual_seed(cfg.env.seed + 0x0FF5E7),
                                  torch.cuda.Stream(device) if device.type == "cuda" else None)
    return learner


def overlapping(cfg: TrainConfig, device: torch.device, ranks: distributed.Ranks) -> bool:
    """Whether this run learns from one rollout while collecting the next (TrainConfig.overlap)."""
    if cfg.overlap == "on" and ranks.active:
        raise TrainError("--overlap on is not supported under torchrun (its ranks already share the work); "
                         "drop --overlap or pass --overlap off")
    return cfg.overlap == "on" or (cfg.overlap == "auto" and device.type == "cuda" and not ranks.active)


def start_fresh(learner: Learner, envs, cfg: TrainConfig, device: torch.device) -> None:
    """A new run: reset the envs and start the carry from their first observation."""
    obs, _ = envs.reset(seed=cfg.env.seed)
    learner.carry = Carry(obs_to_torch(obs, device), torch.zeros(cfg.num_envs, device=device),
                          learner.policy.initial_state(cfg.num_envs, device))


def restore(resume: checkpoint.Checkpoint, learner: Learner, envs, device: torch.device) -> None:
    """Continue from a checkpoint: weights, optimizer, counters, partial rollout, envs, carry, statistics, RNGs."""
    snap = checkpoint.load(resume)
    learner.policy.load_state_dict(snap["policy"])
    learner.optimizer.load_state_dict(snap["optimizer"])
    learner.counters = Counters(**snap["counters"])
    if learner.counters.rollout_step:
        learner.rollout.load_tensors(snap["rollout"])
    envs.set_state(snap["env"])
    c = snap["carry"]
    learner.carry = Carry({k: v.to(device) for k, v in c["obs"].items()}, c["done"].to(device),
                          (c["lstm_h"].to(device), c["lstm_c"].to(device)))
    learner.stats.load_state_dict(snap["stats"])
    learner.last_eval = snap.get("eval")
    set_rng_state(snap["rng"])
    restore_overlap(learner, snap.get("overlap"))


def restore_overlap(learner: Learner, saved: dict | None) -> None:
    """The acting weights and the pending rollout of an overlapped run. A checkpoint written without overlap
    (or a run resumed without it) has none: the actor starts from the learner's weights, nothing is pending."""
    ov = learner.overlap
    if ov is None:
        if saved is not None and saved["has_pending"]:
            raise TrainError("this checkpoint holds a rollout waiting for its update (it was saved with --overlap "
                             "on); resume with the same --overlap")
        return
    if saved is None:
        ov.actor.load_state_dict(learner.policy.state_dict())
        return
    ov.actor.load_state_dict(saved["actor"])
    ov.generator.set_state(saved["generator"])
    ov.losses = dict(saved.get("losses", {}))
    ov.has_pending = bool(saved["has_pending"])
    if ov.has_pending:
        ov.pending.load_tensors(saved["pending"])
        pc = saved["pending_carry"]
        for key, tensor in ov.pending_carry.obs.items():
            tensor.copy_(pc["obs"][key])
        ov.pending_carry.done.copy_(pc["done"])
        ov.pending_carry.lstm[0].copy_(pc["lstm_h"])
        ov.pending_carry.lstm[1].copy_(pc["lstm_c"])


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
    logger.message(cfg.env.mechanisms() + (" | bf16" if cfg.policy.bf16 else ""))
    return logger


def anneal_learning_rate(learner: Learner, cfg: TrainConfig, num_iterations: int, updates_done: int | None = None) -> None:
    """Linear decay to 0 over the run's updates, set before each update's rollout (or, with overlap, before the
    update starts)."""
    done = learner.counters.iteration if updates_done is None else updates_done
    learner.optimizer.param_groups[0]["lr"] = (1.0 - done / num_iterations) * cfg.ppo.learning_rate


class UpdateWorker(threading.Thread):
    """One PPO update on a thread of its own (overlap): torch releases the GIL in its kernels and the native env
    step releases it too, so the update and the next rollout run at once. ``join()`` returns the losses (or
    raises what the update raised)."""

    def __init__(self, learner: Learner, cfg: TrainConfig, device: torch.device):
        super().__init__(name="pokerl-update", daemon=True)
        self.learner, self.cfg, self.device = learner, cfg, device
        self.losses: dict[str, float] = {}
        self.error: BaseException | None = None
        ov = learner.overlap
        if ov.stream is not None:  # the pending rollout was written on the default stream
            ov.stream.wait_stream(torch.cuda.current_stream(device))

    def run(self) -> None:
        ov = self.learner.overlap
        try:
            if ov.stream is not None:
                torch.cuda.set_device(self.device)
                with torch.cuda.stream(ov.stream):
                    self.losses = update(self.learner, self.cfg, buf=ov.pending, carry=ov.pending_carry,
                                         generator=ov.generator)
            else:
                self.losses = update(self.learner, self.cfg, buf=ov.pending, carry=ov.pending_carry,
                                     generator=ov.generator)
        except BaseException as e:  # noqa: BLE001 - handed to the main thread by join()
            self.error = e

    def join(self, timeout: float | None = None) -> dict[str, float]:
        super().join(timeout)
        if self.error is not None:
            raise self.error
        if self.learner.overlap.stream is not None:  # the actor's copy of the weights waits for the update
            torch.cuda.current_stream(self.device).wait_stream(self.learner.overlap.stream)
        return self.losses


def overlapped_iteration(learner: Learner, cfg: TrainConfig, envs, device: torch.device, num_iterations: int,
                         stop: threading.Event) -> tuple[dict[str, float], float, float]:
    """Collect a rollout with the acting policy while the pending rollout (if any) is learned from; then the
    actor takes the new weights and the fresh rollout becomes the pending one. Returns (losses, seconds both ran,
    seconds the update ran past the rollout). A stop mid-rollout still waits for the update and keeps the partial
    rollout (the actor that collected it is checkpointed with it)."""
    c, ov = learner.counters, learner.overlap
    worker = None
    t0 = time.monotonic()
    if ov.has_pending:
        if cfg.ppo.anneal_lr:
            anneal_learning_rate(learner, cfg, num_iterations, updates_done=c.iteration - 1)
        worker = UpdateWorker(learner, cfg, device)
        worker.start()
    c.rollout_step, c.global_step = collect_rollout(
        ov.actor, envs, learner.rollout, learner.carry, c.rollout_step, learner.stats, c.global_step, stop)
    t1 = time.monotonic()
    if worker is not None:
        ov.losses = worker.join()
        ov.has_pending = False
    t2 = time.monotonic()
    if c.rollout_step < cfg.ppo.num_steps:
        return {}, t1 - t0, t2 - t1
    finish_overlapped_rollout(learner)
    losses, ov.losses = ov.losses, {}
    return losses, t1 - t0, t2 - t1


def finish_overlapped_rollout(learner: Learner) -> None:
    """A complete rollout: the actor takes the learner's weights, the rollout becomes the pending one (with the
    carry it ends at), and the learner's buffer is free for the next."""
    c, ov = learner.counters, learner.overlap
    ov.actor.load_state_dict(learner.policy.state_dict())
    learner.rollout, ov.pending = ov.pending, learner.rollout
    for key, tensor in learner.carry.obs.items():
        ov.pending_carry.obs[key].copy_(tensor)
    ov.pending_carry.done.copy_(learner.carry.done)
    for dst, src in zip(ov.pending_carry.lstm, learner.carry.lstm):
        dst.copy_(src)
    ov.has_pending = True
    c.rollout_step = 0
    c.iteration += 1


def drain_overlap(learner: Learner, cfg: TrainConfig, device: torch.device, num_iterations: int) -> dict[str, float]:
    """The last rollout's update, with nothing left to collect beside it."""
    ov = learner.overlap
    if ov is None or not ov.has_pending:
        return {}
    if cfg.ppo.anneal_lr:
        anneal_learning_rate(learner, cfg, num_iterations, updates_done=learner.counters.iteration - 1)
    worker = UpdateWorker(learner, cfg, device)
    worker.start()
    losses = worker.join()
    ov.has_pending = False
    ov.actor.load_state_dict(learner.policy.state_dict())
    return losses


def update(learner: Learner, cfg: TrainConfig, ranks: distributed.Ranks = distributed.Ranks(),
           buf: Rollout | None = None, carry: Carry | None = None,
           generator: torch.Generator | None = None) -> dict[str, float]:
    """GAE over the full rollout (the learner's, or ``buf`` ending at ``carry``), then PPO's epochs x minibatches
    (gradients averaged over ranks under torchrun); returns the losses."""
    policy, buf, carry = learner.policy, buf or learner.rollout, carry or learner.carry
    next_value = bootstrap_value(policy, carry)
    advantages, returns = compute_gae(
        buf.rewards, buf.values, buf.dones, next_value, carry.done, cfg.ppo.gamma, cfg.ppo.gae_lambda
    )
    batch = learner.batch.fill(buf, advantages, returns)
    if not ranks.active:
        return ppo_update(policy, learner.optimizer, batch, cfg.ppo, learner.minibatch, generator=generator)
    params = list(policy.parameters())
    return ppo_update(policy, learner.optimizer, batch, cfg.ppo, learner.minibatch,
                      reduce_grads=lambda: distributed.average_gradients(ranks, params),
                      agree=lambda flag: distributed.any_rank(ranks, flag))


def build_scalars(losses: dict[str, float], learner: Learner, envs, sps: float, rollout_seconds: float,
                  update_seconds: float) -> dict[str, float]:
    """One update's scalars: losses, episode statistics since the last update, learning rate, speed, helpers."""
    scalars = {f"losses/{k}": v for k, v in losses.items() if k != "loss"}
    scalars.update(learner.stats.drain())
    scalars["charts/learning_rate"] = learner.optimizer.param_groups[0]["lr"]
    scalars["charts/SPS"] = sps
    scalars["charts/frames"] = float(envs.total_frames)  # emulated by all envs so far
    scalars["perf/rollout_seconds"] = rollout_seconds
    scalars["perf/update_seconds"] = update_seconds
    scalars.update({f"helpers/{k}": float(v) for k, v in envs.helper_counts().items()})
    return scalars


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
            for frame in screens_to_rgb(packed):
                writer.add(frame)
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
    from pokerl_fast.evaluate import evaluate

    result = evaluate(learner.policy, cfg.env, episodes=cfg.eval_episodes,
                      steps=cfg.eval_steps or cfg.env.episode_length, seed=cfg.env.seed, device=device,
                      start_state=envs.start_state)
    result.update(global_step=learner.counters.global_step, iteration=learner.counters.iteration)
    learner.last_eval = result
    return summary_scalars(result, "eval")


def write_progress(cfg: TrainConfig, learner: Learner, logger: RunLogger) -> dict:
    """Print the run's progress table (and the last evaluation's) and write run_dir/progress.json; returns it."""
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
    return report


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


def save_checkpoint(cfg: TrainConfig, learner: Learner, envs, world: int = 1) -> Path:
    """Write a complete checkpoint (and the explored map) into run_dir/checkpoints; returns its path. Under
    torchrun (``world`` ranks; rank 0 writes) it is named by the env steps of all ranks and holds rank 0's envs.

    A checkpoint that cannot be written (disk full) raises CheckpointError, which stops the run with one line
    (``main``: exit 2) rather than training on without checkpoints; the previous checkpoint is kept."""
    counters, carry = learner.counters, learner.carry
    snapshot = {
        "policy": learner.policy.state_dict(),
        "optimizer": learner.optimizer.state_dict(),
        "counters": dataclasses.asdict(counters),
        "rng": rng_state(),
        "carry": {"obs": carry.obs, "done": carry.done, "lstm_h": carry.lstm[0], "lstm_c": carry.lstm[1]},
        "rollout": learner.rollout.tensors() if counters.rollout_step else {},
        "env": envs.get_state(),
        "stats": learner.stats.state_dict(),
        "eval": learner.last_eval,
    }
    ov = learner.overlap
    if ov is not None:  # the acting weights and the rollout waiting for its update
        snapshot["overlap"] = {
            "actor": ov.actor.state_dict(), "has_pending": ov.has_pending, "generator": ov.generator.get_state(),
            "losses": dict(ov.losses),
            "pending": ov.pending.tensors() if ov.has_pending else {},
            "pending_carry": {"obs": ov.pending_carry.obs, "done": ov.pending_carry.done,
                              "lstm_h": ov.pending_carry.lstm[0], "lstm_c": ov.pending_carry.lstm[1]},
        }
    meta = {
        "config": cli.to_dict(cfg),
        "rom_sha1": envs.rom_sha1,
        "version": pokerl_fast.__version__,
        "torch": torch.__version__,
        "global_step": counters.global_step * world,
        "iteration": counters.iteration,
        "ranks": world,
        "saved_at": datetime.datetime.now().isoformat(timespec="seconds"),
    }
    write_map(envs, cfg.run_dir)
    return checkpoint.save(Path(cfg.run_dir) / "checkpoints", counters.global_step * world, snapshot, meta,
                           keep=cfg.keep_checkpoints)


class CheckpointSchedule:
    """A checkpoint after every ``checkpoint_iterations`` updates, after the first update that ends
    ``checkpoint_minutes`` after the last one, and at the end if anything is unsaved."""

    def __init__(self, cfg: TrainConfig, counters: Counters):
        self.every, self.seconds = cfg.checkpoint_iterations, cfg.checkpoint_minutes * 60
        self.saved(counters)  # a new run has nothing to save yet; a resumed one starts from its checkpoint

    def due(self, counters: Counters) -> bool:
        return bool(self.every and counters.iteration % self.every == 0) or (
            time.monotonic() - self.last_time >= self.seconds
        )

    def saved(self, counters: Counters) -> None:
        self.last_time, self.last = time.monotonic(), (counters.global_step, counters.rollout_step)

    def unsaved(self, counters: Counters) -> bool:
        return (counters.global_step, counters.rollout_step) != self.last


LIVE_MAP_PORT = 8765


def open_live_map(cfg: TrainConfig, learner: Learner, envs, ranks: distributed.Ranks, speed: dict):
    """The live map page (pokerl_fast/live.py) on 127.0.0.1, rank 0 only; None when off."""
    if cfg.live_map_port < 0 or not ranks.main:
        return None
    from pokerl_fast.game.kanto_map import explored_map_rgb, global_position, kanto_picture_geometry
    from pokerl_fast.live import LiveMap

    def state():
        pos = envs.position()
        return {"step": learner.counters.global_step * ranks.world, "sps": speed.get("sps", 0.0),
                "positions": [global_position(m, x, y) for m, x, y in zip(pos["map"], pos["x"], pos["y"])],
                "milestones": {name: step * cfg.num_envs * ranks.world
                               for name, step in envs.progress.first_step.items()}}

    def picture():
        if envs.canvas is None:
            return explored_map_rgb(envs.global_visit_counts()), (0, 0, 1)
        return kanto_picture_geometry(envs.canvas, envs.painted, envs.global_visit_counts(), envs.trails)

    try:
        return LiveMap(cfg.live_map_port, state, picture)
    except OSError as e:
        raise TrainError(f"cannot serve the live map on 127.0.0.1:{cfg.live_map_port} ({e.strerror or e}); "
                         "pass --live-map 0 for any free port") from None


def num_iterations(cfg: TrainConfig, ranks: distributed.Ranks = distributed.Ranks()) -> int:
    """Rollout + update cycles of each rank: total_steps are shared by the ranks."""
    return max(1, math.ceil(cfg.total_steps / (cfg.batch_size * ranks.world)))


def rank_config(cfg: TrainConfig, ranks: distributed.Ranks) -> TrainConfig:
    """What this rank runs: its envs seeded after the other ranks' (env.seed + rank x num_envs), and the CPUs
    this node's ranks may use split between them (unless threads were set)."""
    if not ranks.active:
        return cfg
    share = max(1, runtime.available_cpus() // ranks.local_world)
    env = dataclasses.replace(cfg.env, seed=cfg.env.seed + ranks.rank * cfg.num_envs,
                              num_threads=cfg.env.num_threads or share)
    return dataclasses.replace(cfg, env=env, torch_threads=cfg.torch_threads or share)


def restore_shared(resume: checkpoint.Checkpoint, learner: Learner, envs, cfg: TrainConfig, device: torch.device,
                   ranks: distributed.Ranks) -> None:
    """A rank other than 0 resuming: rank 0's weights, optimizer and counters (its envs are rank 0's, so this
    rank starts its own envs afresh, seeded by rank and iteration)."""
    snap = checkpoint.load(resume)
    learner.policy.load_state_dict(snap["policy"])
    learner.optimizer.load_state_dict(snap["optimizer"])
    learner.counters = Counters(**snap["counters"])
    learner.counters.rollout_step = 0
    seed = cfg.env.seed + 7919 * learner.counters.iteration
    torch.manual_seed(seed)
    obs, _ = envs.reset(seed=seed)
    learner.carry = Carry(obs_to_torch(obs, device), torch.zeros(cfg.num_envs, device=device),
                          learner.policy.initial_state(cfg.num_envs, device))


def train(cfg: TrainConfig, resume: checkpoint.Checkpoint | None = None, stop: threading.Event | None = None) -> dict:
    """Run PPO until ``total_steps`` or until ``stop`` is set (or SIGINT/SIGTERM). Returns a summary dict.

    Under ``torchrun`` each rank runs this with its own envs (rank_config); gradients are averaged over ranks
    (learn/distributed.py), rank 0 alone logs, evaluates and writes checkpoints, and a stop is agreed by all."""
    from pokerl_fast.env import VecEnv

    stop = stop or threading.Event()
    ranks = distributed.from_environment()
    cfg, start_state = check_inputs(cfg, resuming=resume is not None or not ranks.main)
    if ranks.main:
        prepare_run_dir(cfg)
        if resume is not None:  # damaged newer checkpoints (skipped): out of loading and pruning for good
            checkpoint.set_aside_damaged(Path(cfg.run_dir) / "checkpoints", resume.step)
    local = rank_config(cfg, ranks)
    device = configure_torch(local)
    if ranks.active and device.type == "cuda":
        torch.cuda.set_device(ranks.local_rank)
        device = torch.device("cuda", ranks.local_rank)
    distributed.init(ranks, device)
    seed_everything(cfg.env.seed)  # the same initial weights on every rank

    overlap = overlapping(cfg, device, ranks)
    envs = VecEnv(local.num_envs, local.env, start_state=start_state)
    logger = live = None
    try:
        learner = new_learner(local, envs, device, overlap)
        distributed.broadcast_module(ranks, learner.policy)
        if ranks.active and resume is None:
            torch.manual_seed(cfg.env.seed + 1 + ranks.rank)  # each rank samples its own actions and minibatches
        if resume is None:
            start_fresh(learner, envs, local, device)
        elif ranks.main:
            restore(resume, learner, envs, device)
        else:
            restore_shared(resume, learner, envs, local, device, ranks)
        c = learner.counters
        iterations = num_iterations(cfg, ranks)
        logger = open_logger(cfg, learner, device, resumed=resume is not None, ranks=ranks)
        speed: dict[str, float] = {}
        live = open_live_map(cfg, learner, envs, ranks, speed)
        if live is not None:
            logger.message(f"live map: {live.url}")
        schedule = CheckpointSchedule(cfg, c)
        start_time, start_step = time.monotonic(), c.global_step
        last_path = resume.path if resume is not None else None
        losses: dict[str, float] = {}
        scalars: dict[str, float] = {}
        # Ranks stop together, between updates: a rank's rollout never stops half-way under torchrun.
        rollout_stop = threading.Event() if ranks.active else stop
        with _StopOnSignal(stop) as signals:
            while c.iteration < iterations and not stop.is_set():
                if overlap:  # the update of the last rollout runs beside this one's collection
                    losses, rollout_seconds, update_seconds = overlapped_iteration(
                        learner, cfg, envs, device, iterations, rollout_stop)
                    if c.rollout_step:
                        break  # stopped mid-rollout: the checkpoint keeps it, and the actor that collected it
                else:
                    if cfg.ppo.anneal_lr and c.rollout_step == 0:
                        anneal_learning_rate(learner, cfg, iterations)
                    t0 = time.monotonic()
                    c.rollout_step, c.global_step = collect_rollout(
                        learner.policy, envs, learner.rollout, learner.carry, c.rollout_step, learner.stats,
                        c.global_step, rollout_stop,
                    )
                    if c.rollout_step < cfg.ppo.num_steps:
                        break  # stopped mid-rollout: the checkpoint below keeps the partial rollout
                    t1 = time.monotonic()
                    losses = update(learner, cfg, ranks)
                    c.iteration += 1
                    c.rollout_step = 0
                    rollout_seconds, update_seconds = t1 - t0, time.monotonic() - t1

                sps = (c.global_step - start_step) / max(time.monotonic() - start_time, 1e-9)
                speed["sps"] = sps * ranks.world
                scalars = build_scalars(losses, learner, envs, sps, rollout_seconds, update_seconds)
                scalars.update(report_new_milestones(envs, cfg.num_envs, logger, ranks.world))
                scalars = distributed.reduce_scalars(ranks, scalars)
                step = c.global_step * ranks.world  # env steps of all ranks
                if ranks.main:
                    write_clips(envs, cfg.run_dir, cfg.num_envs * ranks.world)
                    if cfg.eval_interval and c.iteration % cfg.eval_interval == 0:
                        scalars.update(run_evaluation(local, learner, envs, device))
                    logger.log(scalars, step)
                    if cfg.map_png_iterations and c.iteration % cfg.map_png_iterations == 0:
                        write_map(envs, cfg.run_dir)
                    logger.status(step, learner.stats.last | scalars)

                    if schedule.due(c):
                        logger.flush()
                        last_path = save_checkpoint(cfg, learner, envs, ranks.world)
                        schedule.saved(c)
                if distributed.any_rank(ranks, stop.is_set()):
                    stop.set()

            drained = {}
            if c.iteration >= iterations:  # the last rollout's update (with overlap it is still pending)
                drained = drain_overlap(learner, cfg, device, iterations)
                losses = drained or losses
            if (schedule.unsaved(c) or drained) and ranks.main:
                logger.flush()
                last_path = save_checkpoint(cfg, learner, envs, ranks.world)
        stopped = c.iteration < iterations
        if ranks.active:
            digest = distributed.weights_digest(learner.policy)
            same = distributed.digests_agree(ranks, digest)
            logger.message(f"{ranks.world} ranks: weights {'identical on every rank' if same else 'DIFFER between ranks'}"
                           f" (sha256 {digest[:16]})")
        progress = write_progress(cfg, learner, logger) if ranks.main else {}
        if stopped:
            reason = f"{signals.received}: " if signals.received else ""
            logger.message(f"{reason}stopped at step {c.global_step * ranks.world} and saved a checkpoint; continue "
                           f"with: python -m pokerl_fast.train --resume {cfg.run_dir}")
        return {
            "run_dir": cfg.run_dir,
            "global_step": c.global_step * ranks.world,
            "iteration": c.iteration,
            "stopped": stopped,
            "checkpoint": str(last_path) if last_path else None,
            "losses": losses,
            "scalars": scalars,
            "stats": dict(learner.stats.last),
            "best": dict(learner.stats.best),
            "progress": progress,
        }
    finally:
        if live is not None:
            live.close()
        if logger is not None:
            logger.close()
        envs.close()
        distributed.shutdown(ranks)


def build_parser() -> tuple[argparse.ArgumentParser, list[cli.Leaf]]:
    parser = cli.OneLineParser(
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
    parser.add_argument("--live-map", nargs="?", const=LIVE_MAP_PORT, type=int, metavar="PORT",
                        help=f"serve a live map of the run on http://127.0.0.1:PORT/ (default {LIVE_MAP_PORT}; 0: any "
                             "free port); same as --live-map-port")
    leaves = cli.add_config_flags(parser, TrainConfig)
    return parser, leaves


def config_from_args(argv: list[str] | None = None) -> tuple[TrainConfig, checkpoint.Checkpoint | None]:
    """Parse the command line into a resolved config and, with --resume, the checkpoint to continue from."""
    parser, leaves = build_parser()
    ns = parser.parse_args(argv)
    overrides = cli.overrides_from_args(ns, leaves)
    if ns.live_map is not None:
        overrides["live_map_port"] = ns.live_map
    cfg = TrainConfig()
    ckpt = None
    saved = None
    if not ns.resume and distributed.restart_count() > 0 and overrides.get("run_dir"):
        # torchrun --max-restarts started this job again after a rank failed: continue from the last checkpoint.
        if checkpoint.latest(Path(overrides["run_dir"]) / "checkpoints") is not None:
            ns.resume = overrides["run_dir"]
            print(f"torchrun restart {distributed.restart_count()}: resuming {ns.resume}", file=sys.stderr)
    if ns.resume:
        skipped: list[str] = []  # damaged checkpoints newer than the one resumed, newest first
        if not Path(ns.resume).is_dir():
            raise TrainError(f"cannot resume {ns.resume}: no such run dir; pass the --run-dir of an earlier run")
        ckpt = checkpoint.latest(Path(ns.resume) / "checkpoints", skipped)
        if ckpt is None:
            why = f" (skipped {len(skipped)}; the newest, {skipped[0]})" if skipped else ""
            raise TrainError(
                f"cannot resume {ns.resume}: no valid checkpoint in {Path(ns.resume) / 'checkpoints'}{why}; "
                "start a new run with --run-dir instead"
            )
        for reason in skipped:
            print(f"skipping {reason}; resuming from {ckpt.path.name}", file=sys.stderr)
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
        world = distributed.from_environment().world
        if ckpt.meta.get("ranks", 1) != world:
            n = ckpt.meta.get("ranks", 1)
            how = f"torchrun --nproc-per-node {n} -m pokerl_fast.train --resume {ns.resume}" if n > 1 else \
                f"python -m pokerl_fast.train --resume {ns.resume}"
            raise TrainError(f"cannot resume {ns.resume} with {world} rank(s): it was trained with {n}; run: {how}")
        check_rom(ckpt.meta["rom_sha1"], cfg.env.rom, ns.resume)
    return cfg, ckpt


def main(argv: list[str] | None = None) -> int:
    def body():
        cfg, ckpt = config_from_args(argv)
        train(cfg, resume=ckpt)

    return cli.run_main(body, (TrainError, cli.ConfigError, checkpoint.CheckpointError, RomError, StartStateError,
                               LoggerError), "interrupted; the newest complete checkpoint is kept")


if __name__ == "__main__":
    sys.exit(main())
