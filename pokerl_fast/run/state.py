"""A run's state on disk: RNG states, the checkpoint a run writes (weights, optimizer, counters, RNGs, carry,
partial rollout, envs, statistics, the overlap's acting weights and pending rollout) and how a run continues from
one (rank 0 restores everything; other ranks take rank 0's weights and start their own envs); when to write one."""

from __future__ import annotations

import dataclasses
import datetime
import random
import time
from pathlib import Path

import numpy as np
import torch

import pokerl_fast
from pokerl_fast import cli
from pokerl_fast.config import TrainConfig
from pokerl_fast.learn import checkpoint, distributed
from pokerl_fast.learn.ppo import Carry, obs_to_torch
from pokerl_fast.run.checks import TrainError
from pokerl_fast.run.learner import Counters, Learner
from pokerl_fast.run.outputs import write_map


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


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: dict) -> None:
    """``optimizer.load_state_dict(state)``, then each per-parameter state tensor laid out as its parameter is.
    A checkpoint stores tensors contiguous (safetensors), so a channels-last convolution's Adam moments come back
    NCHW beside an NHWC weight; the fused Adam walks all four tensors in memory order and would mix up their
    elements (a resumed run diverged at its first update). Values are unchanged."""
    optimizer.load_state_dict(state)
    for group in optimizer.param_groups:
        for p in group["params"]:
            for key, value in optimizer.state.get(p, {}).items():
                if torch.is_tensor(value) and value.shape == p.shape and value.stride() != p.stride():
                    optimizer.state[p][key] = torch.empty_like(p, dtype=value.dtype).copy_(value)


def restore(resume: checkpoint.Checkpoint, learner: Learner, envs, device: torch.device) -> None:
    """Continue from a checkpoint: weights, optimizer, counters, partial rollout, envs, carry, statistics, RNGs."""
    snap = checkpoint.load(resume)
    learner.policy.load_state_dict(snap["policy"])
    load_optimizer_state(learner.optimizer, snap["optimizer"])
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


def restore_shared(resume: checkpoint.Checkpoint, learner: Learner, envs, cfg: TrainConfig, device: torch.device,
                   ranks: distributed.Ranks) -> None:
    """A rank other than 0 resuming: rank 0's weights, optimizer and counters (its envs are rank 0's, so this
    rank starts its own envs afresh, seeded by rank and iteration)."""
    snap = checkpoint.load(resume)
    learner.policy.load_state_dict(snap["policy"])
    load_optimizer_state(learner.optimizer, snap["optimizer"])
    learner.counters = Counters(**snap["counters"])
    learner.counters.rollout_step = 0
    seed = cfg.env.seed + 7919 * learner.counters.iteration
    torch.manual_seed(seed)
    obs, _ = envs.reset(seed=seed)
    learner.carry = Carry(obs_to_torch(obs, device), torch.zeros(cfg.num_envs, device=device),
                          learner.policy.initial_state(cfg.num_envs, device))
