"""evaluate(): a freshly initialised policy run alone from the start state gives a well-formed, reproducible account."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from pokerl_fast.config import EnvConfig
from pokerl_fast.env.progress import MILESTONE_NAMES
from pokerl_fast.learn.policy_alone import evaluate, evaluation_config
from pokerl_fast.learn.policy import Policy, PolicyConfig

TINY = PolicyConfig(hidden_size=32, cnn_channels=(4, 8, 8), cnn_features=32, map_embedding=4, ram_hidden=16)


@pytest.fixture(scope="module")
def policy(start_state):
    from pokerl_fast.env import VecEnv

    envs = VecEnv(1, EnvConfig(num_threads=1), start_state=start_state)
    try:
        torch.manual_seed(0)
        return Policy.from_spaces(envs.single_observation_space, envs.single_action_space, TINY)
    finally:
        envs.close()


def test_evaluate_is_well_formed_and_deterministic(policy, start_state):
    cfg = EnvConfig(num_threads=1, stuck_steps=20, swarm_interval=8, reset_to_archive=0.5, stuck_ends_episode=True)
    rng_before = torch.get_rng_state()
    a = evaluate(policy, cfg, episodes=3, steps=60, seed=4, start_state=start_state)
    assert torch.equal(torch.get_rng_state(), rng_before)  # the trainer's RNG is untouched
    b = evaluate(policy, cfg, episodes=3, steps=60, seed=4, start_state=start_state)
    assert a == b
    assert a["episodes"] == 3 and a["env_steps"] == 180 and (a["steps"], a["seed"], a["greedy"]) == (60, 4, False)
    assert list(a["milestones"]) == list(MILESTONE_NAMES)
    for m in a["milestones"].values():
        assert 0.0 <= m["reach_rate"] <= 1.0 and m["held_at_start"] == 0  # the start state holds none
        assert (m["median_steps"] is None) == (m["reached"] == 0)
    assert np.isclose(sum(a["map_share"].values()), 1.0) and "REDS_HOUSE_2F" in a["map_share"]
    assert 0.0 <= a["stuck_share"] <= 1.0
    assert len(a["explore"]["per_episode"]) == 3 and a["explore"]["mean"] >= 1
    json.dumps(a)  # goes into progress.json as it is
    # Per episode: the same returns and tiles as the lists, maps in visiting order of ids, milestones as steps.
    assert [e["return"] for e in a["per_episode"]] == a["return"]["per_episode"]
    assert [e["tiles"] for e in a["per_episode"]] == a["explore"]["per_episode"]
    for e in a["per_episode"]:
        assert "REDS_HOUSE_2F" in e["maps"] and set(e["maps"]) <= set(a["map_share"])
        assert all(name in MILESTONE_NAMES and 1 <= step <= 60 for name, step in e["milestones"].items())
    for name, m in a["milestones"].items():
        assert m["reached"] == sum(name in e["milestones"] for e in a["per_episode"])
    # The watcher sees the reset and every step, and may read the envs.
    seen = []
    evaluate(policy, cfg, episodes=2, steps=10, seed=4, start_state=start_state,
             watch=lambda envs, t: seen.append((t, int(envs.position()["map"][0]))))
    assert [t for t, _ in seen] == list(range(11))
    c = evaluate(policy, cfg, episodes=3, steps=60, seed=5, start_state=start_state)
    assert c["explore"] != a["explore"] or c["return"] != a["return"]  # another seed, other episodes
    g = evaluate(policy, cfg, episodes=2, steps=30, seed=4, greedy=True, start_state=start_state)
    assert g["greedy"] and g == evaluate(policy, cfg, episodes=2, steps=30, seed=4, greedy=True,
                                         start_state=start_state)


def test_evaluation_config_turns_off_swarming_and_resets():
    cfg = evaluation_config(EnvConfig(swarm_interval=8, reset_to_archive=0.5, stuck_steps=3, stuck_ends_episode=True,
                                      episode_length=999), steps=50, seed=2)
    assert (cfg.swarm_interval, cfg.reset_to_archive, cfg.stuck_ends_episode) == (0, 0.0, False)
    assert (cfg.episode_length, cfg.seed, cfg.stuck_steps) == (50, 2, 3)
    with pytest.raises(ValueError, match="episodes >= 1"):
        evaluate(None, EnvConfig(), episodes=0, steps=5, seed=0)
