"""What the loop trains, and one PPO update: the learner (network, optimizer, rollout buffers, carry, counters,
episode statistics), made fresh or started from the envs' first observation; ``update`` runs GAE and PPO's
epochs (gradients averaged over ranks under torchrun); ``build_scalars`` names an update's figures."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch

from pokerl_fast.config import TrainConfig
from pokerl_fast.learn import distributed
from pokerl_fast.learn.policy import Policy
from pokerl_fast.learn.ppo import Batch, Carry, Rollout, bootstrap_value, compute_gae, obs_to_torch, ppo_update
from pokerl_fast.run.logger import EpisodeStats


@dataclass
class Counters:
    global_step: int = 0
    """env steps so far, summed over envs"""
    iteration: int = 0
    """completed rollout + update cycles"""
    rollout_step: int = 0
    """steps of the current rollout already collected (non-zero only in a checkpoint written mid-rollout)"""


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


def new_optimizer(policy: Policy, cfg: TrainConfig) -> torch.optim.Optimizer:
    """Adam over the policy's parameters; on the fast path the fused kernel (one pass over all parameters instead
    of a dozen tensor ops per parameter: 15 ms -> 1.7 ms a step for the default policy on 2 CPU cores)."""
    fused = {"fused": True} if cfg.policy.fast_path else {}
    return torch.optim.Adam(policy.parameters(), lr=cfg.ppo.learning_rate, eps=cfg.ppo.adam_eps, **fused)


def new_learner(cfg: TrainConfig, envs, device: torch.device, overlap: bool = False) -> Learner:
    """A freshly initialised policy (from the seeded torch RNG), its optimizer and an empty rollout buffer (two,
    and an acting copy of the policy, with ``overlap``)."""
    policy = Policy.from_spaces(envs.single_observation_space, envs.single_action_space, cfg.policy).to(device)
    optimizer = new_optimizer(policy, cfg)
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


def start_fresh(learner: Learner, envs, cfg: TrainConfig, device: torch.device) -> None:
    """A new run: reset the envs and start the carry from their first observation."""
    obs, _ = envs.reset(seed=cfg.env.seed)
    learner.carry = Carry(obs_to_torch(obs, device), torch.zeros(cfg.num_envs, device=device),
                          learner.policy.initial_state(cfg.num_envs, device))


def anneal_learning_rate(learner: Learner, cfg: TrainConfig, num_iterations: int, updates_done: int | None = None) -> None:
    """Linear decay to 0 over the run's updates, set before each update's rollout (or, with overlap, before the
    update starts)."""
    done = learner.counters.iteration if updates_done is None else updates_done
    learner.optimizer.param_groups[0]["lr"] = (1.0 - done / num_iterations) * cfg.ppo.learning_rate


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
    images, distinct = learner.policy.image_counts
    if images:  # the share of a minibatch's images the CNN ran on (the fast path runs it once per distinct image)
        scalars["perf/distinct_images"] = distinct / images
        learner.policy.image_counts[:] = [0, 0]
    scalars.update({f"helpers/{k}": float(v) for k, v in envs.helper_counts().items()})
    return scalars


def num_iterations(cfg: TrainConfig, ranks: distributed.Ranks = distributed.Ranks()) -> int:
    """Rollout + update cycles of each rank: total_steps are shared by the ranks."""
    return max(1, math.ceil(cfg.total_steps / (cfg.batch_size * ranks.world)))
