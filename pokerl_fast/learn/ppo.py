"""Recurrent PPO, readable top to bottom (after CleanRL's ppo_atari_lstm.py).

1. ``collect_rollout``: step the vector env ``num_steps`` times with the current policy into preallocated
   ``(num_steps, num_envs)`` tensors, storing the LSTM state at the start of every BPTT segment.
2. ``compute_gae``: advantages with a plain reverse loop (``compute_gae_vectorized`` is the same thing in
   closed form; a test checks they agree).
3. ``ppo_update``: ``update_epochs`` passes over the rollout cut into BPTT segments of ``bptt`` steps; each
   minibatch is a random set of whole segments replayed through the LSTM from their stored start states.
   Clipped policy loss, clipped value loss, entropy bonus, global grad-norm clip.

Episodes end only by truncation (a time limit) in this project. Like CleanRL and the reference Pokemon
trainer, a truncated step is treated as terminal: no bootstrap from the final observation. With
gamma=0.998 (horizon ~500 steps) and episodes of thousands of steps the bias is small.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.distributions import Categorical

from pokerl_fast.config import PPOConfig
from pokerl_fast.learn.policy import Policy


_TORCH_DTYPES = {np.dtype(np.uint8): torch.uint8, np.dtype(np.float32): torch.float32}


class ObsCopier:
    """Copies the env's observation arrays into tensors allocated once: on CPU straight into ``dst``; on CUDA
    through pinned host buffers, so the host-to-device copy is asynchronous. A staging buffer is rewritten one
    env step later, after the policy's actions were copied back to the host, which waits for the copy."""

    def __init__(self, like: dict[str, Tensor]):
        on_cuda = next(iter(like.values())).device.type == "cuda"
        self.staging = (
            {k: torch.empty(v.shape, dtype=v.dtype, pin_memory=True) for k, v in like.items()} if on_cuda else None
        )

    def __call__(self, dst: dict[str, Tensor], obs: dict[str, np.ndarray]) -> None:
        for key, tensor in dst.items():
            src = torch.from_numpy(obs[key])
            if self.staging is not None:
                src = self.staging[key].copy_(src)
            tensor.copy_(src, non_blocking=True)


class Rollout:
    """Preallocated rollout storage, indexed [step, env]."""

    def __init__(self, observation_space, num_steps: int, num_envs: int, hidden_size: int, bptt: int, device):
        T, N = num_steps, num_envs
        self.num_steps, self.num_envs, self.bptt = T, N, bptt
        self.obs = {
            key: torch.zeros((T, N) + tuple(space.shape), dtype=_TORCH_DTYPES[np.dtype(space.dtype)], device=device)
            for key, space in observation_space.spaces.items()
        }
        self.actions = torch.zeros((T, N), dtype=torch.long, device=device)
        self.logprobs = torch.zeros((T, N), device=device)
        self.rewards = torch.zeros((T, N), device=device)
        self.dones = torch.zeros((T, N), device=device)
        """dones[t] = 1 when obs[t] is the first observation of a new episode"""
        self.values = torch.zeros((T, N), device=device)
        self.lstm_h = torch.zeros((T // bptt, N, hidden_size), device=device)
        """LSTM state before step ``s * bptt`` (before the reset that dones[s * bptt] may apply)"""
        self.lstm_c = torch.zeros((T // bptt, N, hidden_size), device=device)
        self.copy_obs = ObsCopier({k: v[0] for k, v in self.obs.items()})
        """copies one env step's observation arrays into the carry's tensors"""

    def tensors(self) -> dict[str, Tensor]:
        out = {f"obs.{k}": v for k, v in self.obs.items()}
        for name in ("actions", "logprobs", "rewards", "dones", "values", "lstm_h", "lstm_c"):
            out[name] = getattr(self, name)
        return out

    def load_tensors(self, tensors: dict[str, Tensor]) -> None:
        for key, dst in self.tensors().items():
            dst.copy_(tensors[key])


@dataclass
class Carry:
    """What carries from one env step to the next: the latest observation, its done flag, the LSTM state."""

    obs: dict[str, Tensor]
    done: Tensor
    lstm: tuple[Tensor, Tensor]


def obs_to_torch(obs: dict[str, np.ndarray], device) -> dict[str, Tensor]:
    """Copy the env's in-place observation buffers into fresh tensors (the env overwrites them next step)."""
    return {k: torch.from_numpy(v).to(device, copy=True) for k, v in obs.items()}


@torch.no_grad()  # not inference_mode: autocast keeps no casts of the weights there (policy.acting)
def act(policy: Policy, carry: Carry) -> tuple[Tensor, Tensor, Tensor, tuple[Tensor, Tensor]]:
    """Sample actions for ``carry.obs``: (action, logprob, value, next LSTM state).

    The same draw as ``Categorical(logits=logits).sample()`` (one multinomial sample) without building the
    distribution object, which cost as much per env step as the rest of the loop around the forward."""
    logits, value, state = policy(carry.obs, carry.lstm, carry.done)
    logp = torch.log_softmax(logits, dim=-1)
    action = torch.multinomial(logp.exp(), 1)
    return action.squeeze(-1), logp.gather(-1, action).squeeze(-1), value, state


def collect_rollout(
    policy: Policy,
    envs,
    buf: Rollout,
    carry: Carry,
    start_step: int,
    stats,
    global_step: int,
    stop: threading.Event | None = None,
) -> tuple[int, int]:
    """Fill ``buf`` from ``start_step`` to the end, or until ``stop`` is set (checked after every env step).

    ``stats.record(reward, info, global_step)`` sees every step's info. Returns (next step index, global_step);
    the step index is ``buf.num_steps`` when the rollout is complete.
    """
    with policy.acting(carry.done.device):  # under bfloat16: the weights cast once for the whole rollout
        action_dtype = envs.action_space.dtype
        for step in range(start_step, buf.num_steps):
            for key, tensor in carry.obs.items():
                buf.obs[key][step] = tensor
            buf.dones[step] = carry.done
            if step % buf.bptt == 0:
                buf.lstm_h[step // buf.bptt] = carry.lstm[0]
                buf.lstm_c[step // buf.bptt] = carry.lstm[1]

            action, logprob, value, carry.lstm = act(policy, carry)
            buf.actions[step] = action
            buf.logprobs[step] = logprob
            buf.values[step] = value

            obs, reward, terminated, truncated, info = envs.step(action.cpu().numpy().astype(action_dtype))
            global_step += buf.num_envs
            buf.rewards[step].copy_(torch.from_numpy(np.asarray(reward, dtype=np.float32)))
            buf.copy_obs(carry.obs, obs)  # in place: the carry's tensors are allocated once, by start_fresh or restore
            carry.done.copy_(torch.from_numpy(np.logical_or(terminated, truncated)))
            stats.record(reward, info, global_step)
            if stop is not None and stop.is_set():
                return step + 1, global_step
        return buf.num_steps, global_step


def compute_gae(
    rewards: Tensor,
    values: Tensor,
    dones: Tensor,
    next_value: Tensor,
    next_done: Tensor,
    gamma: float,
    gae_lambda: float,
) -> tuple[Tensor, Tensor]:
    """Generalized advantage estimation, plain reverse loop. Inputs (T, N); returns (advantages, returns)."""
    num_steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    lastgaelam = torch.zeros_like(next_value)
    for t in reversed(range(num_steps)):
        if t == num_steps - 1:
            nextnonterminal = 1.0 - next_done
            nextvalues = next_value
        else:
            nextnonterminal = 1.0 - dones[t + 1]
            nextvalues = values[t + 1]
        delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
        advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
    return advantages, advantages + values


def compute_gae_vectorized(
    rewards: Tensor,
    values: Tensor,
    dones: Tensor,
    next_value: Tensor,
    next_done: Tensor,
    gamma: float,
    gae_lambda: float,
) -> tuple[Tensor, Tensor]:
    """Same result as :func:`compute_gae` without a Python loop over time.

    A[t] = sum_{k>=t} (gamma*lambda)^(k-t) * delta[k], summed only while no episode boundary lies between
    t and k. ``breaks[k]`` counts boundaries among transitions 0..k-1, so "same episode" is
    ``breaks[k] == breaks[t]``. Costs O(T^2 N) memory: fine for rollouts of a few hundred steps.
    """
    T = rewards.shape[0]
    nonterminal = 1.0 - torch.cat((dones[1:], next_done.unsqueeze(0)))  # transition t -> t+1
    nextvalues = torch.cat((values[1:], next_value.unsqueeze(0)))
    deltas = rewards + gamma * nextvalues * nonterminal - values
    breaks = torch.cat((torch.zeros_like(nonterminal[:1]), torch.cumsum(1.0 - nonterminal, dim=0)[:-1]))
    steps = torch.arange(T, device=rewards.device)
    lag = (steps[None, :] - steps[:, None]).to(rewards.dtype)  # [t, k] = k - t
    decay = torch.where(lag >= 0, (gamma * gae_lambda) ** lag.clamp(min=0), torch.zeros_like(lag))
    same_episode = (breaks[None, :, :] == breaks[:, None, :]).to(rewards.dtype)  # [t, k, n]
    advantages = torch.einsum("tk,tkn,kn->tn", decay, same_episode, deltas)
    return advantages, advantages + values


def _segments(x: Tensor, bptt: int) -> Tensor:
    """(T, N, ...) -> a (bptt, S, N, ...) view where [i, s, n] is step s*bptt + i of env n; flattening (S, N)
    numbers segment j = s*N + n."""
    T, N = x.shape[:2]
    return x.reshape((T // bptt, bptt, N) + x.shape[2:]).transpose(0, 1)


@dataclass
class Batch:
    """A rollout cut into BPTT segments: time-major (bptt, segments, ...), plus each segment's start state.

    The trainer allocates two once (the whole rollout, and one minibatch) and refills them every update.
    """

    obs: dict[str, Tensor]
    dones: Tensor
    actions: Tensor
    logprobs: Tensor
    values: Tensor
    advantages: Tensor
    returns: Tensor
    lstm_h: Tensor
    lstm_c: Tensor

    @classmethod
    def empty(cls, like: Rollout | Batch, num_segments: int) -> Batch:
        """Uninitialised storage for ``num_segments`` segments shaped like ``like``'s (a rollout or a batch)."""
        bptt = like.bptt if isinstance(like, Rollout) else like.dones.shape[0]
        new = lambda x: x.new_empty((bptt, num_segments) + x.shape[2:])  # noqa: E731
        state = lambda x: x.new_empty((num_segments, x.shape[-1]))  # noqa: E731
        return cls(
            obs={k: new(v) for k, v in like.obs.items()}, dones=new(like.dones), actions=new(like.actions),
            logprobs=new(like.logprobs), values=new(like.values), advantages=new(like.values),
            returns=new(like.values), lstm_h=state(like.lstm_h), lstm_c=state(like.lstm_c),
        )

    @classmethod
    def from_rollout(cls, buf: Rollout, advantages: Tensor, returns: Tensor) -> Batch:
        return cls.empty(buf, buf.num_steps // buf.bptt * buf.num_envs).fill(buf, advantages, returns)

    def fill(self, buf: Rollout, advantages: Tensor, returns: Tensor) -> Batch:
        """Copy ``buf`` (and its advantages and returns) in, cut into segments; returns self."""
        pairs = [(self.obs[k], v) for k, v in buf.obs.items()] + [
            (self.dones, buf.dones), (self.actions, buf.actions), (self.logprobs, buf.logprobs),
            (self.values, buf.values), (self.advantages, advantages), (self.returns, returns),
        ]
        for dst, src in pairs:
            view = _segments(src, buf.bptt)
            dst.view(view.shape).copy_(view)
        self.lstm_h.copy_(buf.lstm_h.reshape(self.lstm_h.shape))
        self.lstm_c.copy_(buf.lstm_c.reshape(self.lstm_c.shape))
        return self

    @property
    def num_segments(self) -> int:
        return self.dones.shape[1]

    def select(self, idx: Tensor, out: Batch | None = None) -> Batch:
        """The segments ``idx``, copied into ``out`` (allocated here when None)."""
        out = out or Batch.empty(self, len(idx))
        for key, tensor in self.obs.items():
            torch.index_select(tensor, 1, idx, out=out.obs[key])
        for name in ("dones", "actions", "logprobs", "values", "advantages", "returns"):
            torch.index_select(getattr(self, name), 1, idx, out=getattr(out, name))
        torch.index_select(self.lstm_h, 0, idx, out=out.lstm_h)
        torch.index_select(self.lstm_c, 0, idx, out=out.lstm_c)
        return out


def ppo_loss(policy: Policy, mb: Batch, cfg: PPOConfig) -> tuple[Tensor, dict[str, Tensor]]:
    """The clipped PPO objective on one minibatch of segments: (loss, detached statistics)."""
    logits, newvalue, _ = policy.forward_sequence(mb.obs, (mb.lstm_h, mb.lstm_c), mb.dones)
    dist = Categorical(logits=logits)
    newlogprob = dist.log_prob(mb.actions)
    entropy = dist.entropy()
    logratio = newlogprob - mb.logprobs
    ratio = logratio.exp()

    with torch.no_grad():
        old_approx_kl = (-logratio).mean()
        approx_kl = ((ratio - 1) - logratio).mean()
        clipfrac = ((ratio - 1.0).abs() > cfg.clip_coef).float().mean()

    advantages = mb.advantages
    if cfg.norm_adv:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)

    pg_loss1 = -advantages * ratio
    pg_loss2 = -advantages * torch.clamp(ratio, 1 - cfg.clip_coef, 1 + cfg.clip_coef)
    pg_loss = torch.max(pg_loss1, pg_loss2).mean()

    if cfg.clip_vloss:
        v_loss_unclipped = (newvalue - mb.returns) ** 2
        v_clipped = mb.values + torch.clamp(newvalue - mb.values, -cfg.clip_coef, cfg.clip_coef)
        v_loss_clipped = (v_clipped - mb.returns) ** 2
        v_loss = 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
    else:
        v_loss = 0.5 * ((newvalue - mb.returns) ** 2).mean()

    entropy_loss = entropy.mean()
    loss = pg_loss - cfg.ent_coef * entropy_loss + v_loss * cfg.vf_coef
    stats = {
        "policy_loss": pg_loss.detach(),
        "value_loss": v_loss.detach(),
        "entropy": entropy_loss.detach(),
        "old_approx_kl": old_approx_kl,
        "approx_kl": approx_kl,
        "clipfrac": clipfrac,
        "loss": loss.detach(),
    }
    return loss, stats


def ppo_update(policy: Policy, optimizer: torch.optim.Optimizer, batch: Batch, cfg: PPOConfig,
               minibatch: Batch | None = None, reduce_grads=None, agree=None,
               generator: torch.Generator | None = None) -> dict[str, float]:
    """``update_epochs`` epochs of shuffled segment minibatches (copied into ``minibatch``, storage the caller
    keeps from update to update; allocated here when None). Returns CleanRL's loss statistics. The shuffles draw
    from ``generator`` (default: torch's global RNG; an update running beside a rollout has its own).

    Data parallel (learn/distributed.py): ``reduce_grads()`` runs after each backward pass (average the
    gradients over ranks), ``agree(flag)`` turns the target-KL stop into one decision of all ranks.

    Losses are means over all minibatches of the update; explained variance is over the whole rollout.
    """
    num_segments = batch.num_segments
    segments_per_mb = num_segments // cfg.num_minibatches
    minibatch = minibatch or Batch.empty(batch, segments_per_mb)
    totals: dict[str, float] = {}
    count = 0
    for _epoch in range(cfg.update_epochs):
        order = torch.randperm(num_segments, generator=generator)
        for start in range(0, num_segments, segments_per_mb):
            idx = order[start : start + segments_per_mb].to(batch.dones.device)
            loss, stats = ppo_loss(policy, batch.select(idx, out=minibatch), cfg)
            optimizer.zero_grad()
            loss.backward()
            if reduce_grads is not None:
                reduce_grads()
            nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
            optimizer.step()
            for key, value in stats.items():
                totals[key] = totals.get(key, 0.0) + float(value)
            count += 1
        early = cfg.target_kl is not None and float(stats["approx_kl"]) > cfg.target_kl
        if agree(early) if agree is not None else early:
            break
    out = {key: value / count for key, value in totals.items()}
    out["explained_variance"] = explained_variance(batch.values, batch.returns)
    return out


def explained_variance(values: Tensor, returns: Tensor) -> float:
    """1 - Var(returns - values) / Var(returns); nan when the returns are constant."""
    y_pred, y_true = values.flatten().cpu().numpy(), returns.flatten().cpu().numpy()
    var_y = np.var(y_true)
    return float("nan") if var_y == 0 else float(1 - np.var(y_true - y_pred) / var_y)


@torch.no_grad()
def bootstrap_value(policy: Policy, carry: Carry) -> Tensor:
    """Critic value of the observation after the last rollout step (without advancing the carry)."""
    _, value, _ = policy(carry.obs, carry.lstm, carry.done)
    return value
