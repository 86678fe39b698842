"""What the policy can do alone: run it from the start state, with no swarming and no reset to archive states.

``evaluate(policy, env_config, episodes=..., steps=..., seed=...)`` runs ``episodes`` envs in one fresh
``VecEnv`` for one episode of ``steps`` steps each (sampled actions from a generator of its own, or the most
likely ones with ``greedy``) and returns per-milestone reach rate and median steps, tiles explored, the share of
steps on each map and the stuck share (``ProgressTally.summary`` plus ``explore``, ``return`` and the run's
settings). The same policy, config and seed give the same result; the global torch and numpy RNGs are left as
they were, so the trainer can evaluate between updates without changing the run.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np
import torch

from pokerl_fast.config import EnvConfig
from pokerl_fast.learn.ppo import obs_to_torch
from pokerl_fast.env.tally import NUM_MAP_IDS, ProgressTally, map_name


def evaluation_config(env_config: EnvConfig, steps: int, seed: int) -> EnvConfig:
    """The env config of an evaluation: episodes of ``steps`` steps from the start state only (no swarming, no
    reset to archive states, stuck envs marked but not ended), seeded with ``seed``."""
    return dataclasses.replace(env_config, episode_length=steps, seed=seed, swarm_interval=0, reset_to_archive=0.0,
                               stuck_ends_episode=False)


@torch.no_grad()
def evaluate(policy, env_config: EnvConfig, *, episodes: int, steps: int, seed: int, greedy: bool = False,
             device: str | torch.device = "cpu", start_state: bytes | None = None,
             watch: Callable[[Any, int], None] | None = None) -> dict[str, Any]:
    """Run ``policy`` (already on ``device``) for ``episodes`` episodes of ``steps`` steps from the start state.

    ``start_state``: the state bytes to start from (default: ``env_config``'s, built or read as a VecEnv does).
    ``watch(envs, step)``: called after every step (and with step 0 after the reset) with the ``VecEnv``, to
    record video or a map; it must not step the envs.
    Returns ``{"episodes", "env_steps", "milestones": {NAME: {"reach_rate", "median_steps", "reached",
    "held_at_start"}}, "map_share": {MAP: share}, "stuck_share", "stuck_episode_ends", "explore": {"mean",
    "per_episode"}, "return": {"mean", "per_episode"}, "per_episode": [{"return", "tiles", "milestones":
    {NAME: step first reached}, "maps": [MAP, ...]}], "steps", "seed", "greedy"}``.
    """
    from pokerl_fast.env import VecEnv  # the env layer loads the emulator bindings

    if episodes < 1 or steps < 1:
        raise ValueError(f"evaluate needs episodes >= 1 and steps >= 1 (got {episodes}, {steps})")
    device = torch.device(device)
    envs = VecEnv(episodes, evaluation_config(env_config, steps, seed), start_state=start_state)
    try:
        tally = ProgressTally(envs.milestone_names)
        generator = torch.Generator(device=device).manual_seed(seed)
        obs, info = envs.reset(seed=seed)
        maps_seen = np.zeros((episodes, NUM_MAP_IDS), bool)
        maps_seen[np.arange(episodes), info["map"]] = True
        if watch is not None:
            watch(envs, 0)
        lstm = policy.initial_state(episodes, device)
        done = torch.zeros(episodes, device=device)
        action_dtype = envs.action_space.dtype
        # Each env's first episode: it ends at the last step, or earlier when it beats the game (terminated);
        # an env whose episode ended early plays on, uncounted, until the others' end.
        ended = np.zeros(episodes, bool)
        final = {"milestone_steps": np.full((episodes, len(envs.milestone_names)), -1, np.int64),
                 "stuck": np.zeros(episodes, bool), "explore": np.zeros(episodes, np.int64),
                 "return": np.zeros(episodes, np.float64)}
        for t in range(steps):
            logits, _, lstm = policy(obs_to_torch(obs, device), lstm, done)
            if greedy:
                action = logits.argmax(dim=-1)
            else:
                action = torch.multinomial(torch.softmax(logits.float(), dim=-1), 1, generator=generator).squeeze(-1)
            obs, _, _, _, info = envs.step(action.cpu().numpy().astype(action_dtype))
            last = info.get("final") or info
            live = ~ended  # steps of the first episodes only
            tally.add_steps(last["map"][live], last["stuck"][live])
            maps_seen[np.flatnonzero(live), last["map"][live]] = True
            if watch is not None:
                watch(envs, t + 1)
            if "final" in info:
                now = info["_episode"] & ~ended
                final["milestone_steps"][now] = info["final"]["milestone_steps"][now]
                final["stuck"][now] = info["final"]["stuck"][now]
                final["explore"][now] = info["final"]["explore"][now]
                final["return"][now] = info["episode_return"][now]
                ended |= now
        assert ended.all(), "every evaluation episode ends by its last step (episode_length = steps)"
        tally.add_episodes(final["milestone_steps"], final["stuck"])
        result = tally.summary()
        explore = final["explore"]
        returns = final["return"]
        result["explore"] = {"mean": float(explore.mean()), "per_episode": explore.tolist()}
        result["return"] = {"mean": float(returns.mean()), "per_episode": returns.tolist()}
        rows = final["milestone_steps"]
        result["per_episode"] = [
            {"return": float(returns[i]), "tiles": int(explore[i]),
             "milestones": {name: int(rows[i, k]) for k, name in enumerate(envs.milestone_names) if rows[i, k] > 0},
             "maps": [map_name(m) for m in np.flatnonzero(maps_seen[i])]}
            for i in range(episodes)]
        result.update(steps=steps, seed=seed, greedy=greedy)
        return result
    finally:
        envs.close()
