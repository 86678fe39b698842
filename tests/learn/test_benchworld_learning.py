"""The default mechanisms learn on the benchmark world: after a fixed budget the policy, evaluated alone from the
start state (no swarming), earns a milestone in at least 15% of its episodes that random play earns in fewer than
2% of episodes of the same length. Random's rate is measured here, in the same run, not written down.

Since the stuck rule only marks stuck envs (2026-12-07: ending them cut every real-game episode before the lab's
rival event), far fewer episodes start from the bedroom in this budget (160 ended, 128 of them started by swarming
holding the starter): the policy alone earned the starter in 25% and 28% of the 32 episodes on two runs (75% when
stuck envs were ended), random 0%.

Minutes of CPU: run with ``pytest -m slow``."""

from __future__ import annotations

import json

import numpy as np
import pytest

import pokerl_fast
from pokerl_fast.learn.policy import PolicyConfig
from pokerl_fast.config import TrainConfig
from pokerl_fast.run.train import train

NUM_ENVS = 16
BUDGET = 160 * NUM_ENVS * 128  # 327,680 env steps: 160 updates
EVAL_EPISODES = 32
EVAL_STEPS = 1024  # random play earns no milestone in 1,024 steps (0 of 64 episodes measured)
MILESTONE = "EVENT_GOT_STARTER"  # measured here: policy alone 25% / 28% of 32 episodes (today's defaults), random 0%
POLICY_RATE = 0.15  # at least 5 of 32 episodes
SMALL = PolicyConfig(hidden_size=128, cnn_channels=(16, 32, 32), cnn_features=128, map_embedding=16, ram_hidden=64)


def random_reach_rates(episodes: int, steps: int, seed: int) -> dict[str, float]:
    """Share of ``episodes`` random-action episodes of ``steps`` steps (from the start state) earning each milestone."""
    envs = pokerl_fast.make_vec_env(episodes, rom="benchworld", seed=seed, episode_length=steps)
    rng = np.random.default_rng(seed)
    try:
        envs.reset(seed=seed)
        for _ in range(steps):
            _, _, _, _, info = envs.step(rng.integers(0, envs.single_action_space.n, episodes))
        assert info["_episode"].all()
        rows = info["final"]["milestone_steps"]
        return {name: float((rows[:, k] > 0).mean()) for k, name in enumerate(envs.milestone_names)}
    finally:
        envs.close()


@pytest.mark.slow
def test_the_default_earns_a_milestone_on_the_benchmark_world_that_random_play_does_not(tmp_path):
    random_rates = random_reach_rates(EVAL_EPISODES, EVAL_STEPS, seed=11)
    cfg = TrainConfig(run_dir=str(tmp_path / "run"), total_steps=BUDGET, num_envs=NUM_ENVS, device="cpu",
                      progress=False, policy=SMALL, eval_interval=BUDGET // (NUM_ENVS * 128),
                      eval_episodes=EVAL_EPISODES, eval_steps=EVAL_STEPS, map_png_iterations=0)
    cfg.env.rom = "benchworld"
    cfg.env.seed = 1
    summary = train(cfg)
    assert summary["global_step"] == BUDGET and not summary["stopped"]
    evaluation = json.loads((tmp_path / "run" / "progress.json").read_text())["eval"]
    policy_rate = evaluation["milestones"][MILESTONE]["reach_rate"]
    escort = evaluation["milestones"]["EVENT_FOLLOWED_OAK_INTO_LAB"]["reach_rate"]
    print(f"Oak's escort: policy alone {escort:.0%}; {MILESTONE}: policy alone {policy_rate:.0%} of {EVAL_EPISODES} episodes, random "
          f"{random_rates[MILESTONE]:.0%} (episodes of {EVAL_STEPS} steps)")
    assert random_rates[MILESTONE] < 0.02, random_rates
    assert policy_rate >= POLICY_RATE, evaluation["milestones"]
