"""PPO learns on the test world: under the same step budget it collects clearly more events, required events and
tiles per episode than a uniformly random policy. Minutes of CPU per seed: run with ``pytest -m slow``."""

from __future__ import annotations

import numpy as np
import pytest

import pokerl_fast
from pokerl_fast.config import EnvConfig
from pokerl_fast.learn.policy import PolicyConfig
from pokerl_fast.config import TrainConfig
from pokerl_fast.run.train import train

NUM_ENVS = 16
EPISODE_LENGTH = 512
BUDGET = 48 * NUM_ENVS * 128  # 98,304 env steps: 48 updates, 12 episodes per env
SMALL = PolicyConfig(hidden_size=128, cnn_channels=(16, 32, 32), cnn_features=128, map_embedding=16, ram_hidden=64)
"""CPU-sized network (~0.3M parameters) so a seed trains in about two minutes on 2 cores"""
KEYS = ("explore", "events", "required_events")


def random_policy_episodes(seed: int, steps: int) -> dict[str, float]:
    """Mean per-episode milestones of uniformly random actions over ``steps`` env steps."""
    envs = pokerl_fast.make_vec_env(NUM_ENVS, seed=seed, episode_length=EPISODE_LENGTH)
    ended: dict[str, list[float]] = {k: [] for k in KEYS}
    rng = np.random.default_rng(seed)
    try:
        envs.reset(seed=seed)
        for _ in range(steps // NUM_ENVS):
            _, _, _, _, info = envs.step(rng.integers(0, envs.single_action_space.n, NUM_ENVS))
            if "_episode" in info:
                for key in KEYS:
                    ended[key].extend(info["final"][key][info["_episode"]].tolist())
    finally:
        envs.close()
    assert len(ended["explore"]) == steps // EPISODE_LENGTH
    return {k: float(np.mean(v)) for k, v in ended.items()}


def ppo_final_episodes(seed: int, run_dir) -> dict[str, float]:
    """Mean per-episode milestones of PPO's last three rounds of episodes (48 episodes, the last quarter)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = TrainConfig(run_dir=str(run_dir), total_steps=BUDGET, num_envs=NUM_ENVS, device="cpu", progress=False,
                      policy=SMALL, env=EnvConfig())  # plain episodes, as the random baseline's: PPO alone is tested
    cfg.env.seed = seed
    cfg.env.episode_length = EPISODE_LENGTH
    summary = train(cfg)
    assert summary["global_step"] == BUDGET and not summary["stopped"]
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    # every env ends an episode each EPISODE_LENGTH / 128 = 4 updates; each logged point is a mean over 16 episodes
    last = {k: [e.value for e in acc.Scalars(f"episode/{k}")] for k in KEYS}
    assert all(len(v) == BUDGET // (NUM_ENVS * EPISODE_LENGTH) for v in last.values())
    return {k: float(np.mean(v[-3:])) for k, v in last.items()}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_ppo_beats_random_on_the_test_world(tmp_path, seed):
    random_stats = random_policy_episodes(seed, BUDGET)
    ppo_stats = ppo_final_episodes(seed, tmp_path / "run")
    print(f"seed {seed}: random {random_stats}  ppo {ppo_stats}")
    assert ppo_stats["explore"] >= 1.5 * random_stats["explore"], (ppo_stats, random_stats)
    assert ppo_stats["events"] >= random_stats["events"] + 0.5, (ppo_stats, random_stats)
    assert ppo_stats["required_events"] >= random_stats["required_events"] + 0.5, (ppo_stats, random_stats)
