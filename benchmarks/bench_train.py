"""Training speed: end-to-end PPO steps/s as a ratio of the vector env's own random-action steps/s, measured in
the same run on the same envs' settings, plus the policy's forward / forward+backward cost.

Run: ``pytest benchmarks/bench_train.py --benchmark-only -s``. On the bundled test world (several times cheaper
per frame than Red) the learner's share is largest; with POKERL_ROM set the env side is slower and the ratio rises.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
import torch

import pokerl_fast
from pokerl_fast.learn.policy import Policy, PolicyConfig
from pokerl_fast.learn.ppo import PPOConfig
from pokerl_fast.config import TrainConfig
from pokerl_fast.run.train import train

from conftest import rate

NUM_ENVS = 16
SMALL = PolicyConfig(hidden_size=128, cnn_channels=(16, 32, 32), cnn_features=128, map_embedding=16, ram_hidden=64)
"""a CPU-sized network for comparison with the default (512-wide LSTM)"""
POLICIES = {"default": PolicyConfig(), "default-plain": PolicyConfig(fast_path=False),
            "default-fp32": PolicyConfig(bf16=False), "small": SMALL}
"""default: what a user gets (bfloat16 where the hardware runs it: PolicyConfig.bf16 none; the learner's fast
path); default-plain: the same without the fast path (the learner before docs/performance.md's changes)"""


def env_steps_per_second(num_envs: int, rounds: int = 5, seconds: float = 1.0) -> float:
    """The vector env's random-action steps/s: the best of ``rounds`` rounds (a round slowed by other load on a
    shared VM would make every train/env ratio look better than it is; the best round makes it look worse)."""
    envs = pokerl_fast.make_vec_env(num_envs, seed=0)
    try:
        envs.reset(seed=0)
        rng = np.random.default_rng(0)
        actions = rng.integers(0, envs.single_action_space.n, (1024, num_envs))
        i = [0]

        def step():
            envs.step(actions[i[0] & 1023])
            i[0] += 1

        return max(rate(step, seconds) for _ in range(rounds)) * num_envs
    finally:
        envs.close()


def train_steps_per_second(tmp_path, policy: PolicyConfig, iterations: int = 4, device: str = "cpu",
                           overlap: str = "off", eval_interval: int = 0) -> dict:
    """charts/SPS of a real training run (rollouts + GAE + updates), skipping the first (warm-up) iteration."""
    cfg = TrainConfig(
        run_dir=str(tmp_path), num_envs=NUM_ENVS, device=device, progress=False, checkpoint_minutes=1e9,
        ppo=PPOConfig(), policy=policy, overlap=overlap, eval_interval=eval_interval,
    )
    warm = train(dataclasses.replace(cfg, run_dir=str(tmp_path / "warm"), total_steps=cfg.batch_size))
    start = time.perf_counter()
    out = train(dataclasses.replace(cfg, total_steps=cfg.batch_size * iterations))
    elapsed = time.perf_counter() - start
    assert warm["global_step"] == cfg.batch_size and out["global_step"] == cfg.batch_size * iterations
    scalars = out["scalars"]
    return {"sps": scalars["charts/SPS"], "rollout_s": scalars["perf/rollout_seconds"],
            "update_s": scalars["perf/update_seconds"], "wall_sps": out["global_step"] / elapsed,
            "eval_s": scalars.get("perf/eval_seconds"),
            "update_us_per_step": 1e6 * scalars["perf/update_seconds"] / cfg.batch_size}


@pytest.mark.benchmark(group="train")
@pytest.mark.parametrize("name", list(POLICIES))
def test_train_sps_vs_env_sps(benchmark, report, tmp_path, name):
    env_sps = env_steps_per_second(NUM_ENVS)
    result = train_steps_per_second(tmp_path, POLICIES[name])
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    ratio = result["sps"] / env_sps
    report(f"train/env steps/s ratio ({name} policy)", ratio,
           note=f"target >= 0.8; train {result['sps']:.0f} vs env {env_sps:.0f} steps/s, "
                f"{NUM_ENVS} envs, {torch.get_num_threads()} torch threads")
    report(f"update share of an iteration ({name} policy)",
           result["update_s"] / (result["update_s"] + result["rollout_s"]))
    report(f"update us per collected env step ({name} policy)", result["update_us_per_step"], "{:.0f}")


@pytest.mark.benchmark(group="train")
def test_fast_path_vs_plain_path(benchmark, report, tmp_path):
    """The learner's fast path against the plain one, default policy and precision, measured back to back."""
    plain = train_steps_per_second(tmp_path / "plain", POLICIES["default-plain"])
    fast = train_steps_per_second(tmp_path / "fast", POLICIES["default"])
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    report("training steps/s, fast path / plain path (default policy)", fast["sps"] / plain["sps"],
           note=f"fast {fast['sps']:.0f} vs plain {plain['sps']:.0f} steps/s")
    report("update time per collected step, plain / fast (default policy)",
           plain["update_us_per_step"] / fast["update_us_per_step"],
           note=f"plain {plain['update_us_per_step']:.0f} vs fast {fast['update_us_per_step']:.0f} us")
    report("rollout time per step, plain / fast (default policy)", plain["rollout_s"] / fast["rollout_s"])


def _policy_and_batch(cfg: PolicyConfig, batch: int, seq: int = 1):
    envs = pokerl_fast.make_vec_env(1, seed=0)
    try:
        policy = Policy.from_spaces(envs.single_observation_space, envs.single_action_space, cfg)
        space = envs.single_observation_space
    finally:
        envs.close()
    gen = torch.Generator().manual_seed(0)
    obs = {
        k: (torch.randint(0, 256, (seq, batch) + s.shape, dtype=torch.uint8, generator=gen) if s.dtype == np.uint8
            else torch.randn((seq, batch) + s.shape, generator=gen))
        for k, s in space.spaces.items()
    }
    return policy, obs


@pytest.mark.benchmark(group="policy")
@pytest.mark.parametrize("name", list(POLICIES))
def test_policy_forward_backward(benchmark, report, name):
    """Rollout forward (one step, num_envs envs) and a training minibatch forward+backward, per env step."""
    ppo = PPOConfig()
    segments = NUM_ENVS * ppo.num_steps // ppo.bptt // ppo.num_minibatches
    policy, obs1 = _policy_and_batch(POLICIES[name], NUM_ENVS)
    _, obs_seq = _policy_and_batch(POLICIES[name], segments, ppo.bptt)
    step_obs = {k: v[0] for k, v in obs1.items()}
    state1 = policy.initial_state(NUM_ENVS)
    state_seq = policy.initial_state(segments)
    done1 = torch.zeros(NUM_ENVS)
    dones = torch.zeros(ppo.bptt, segments)

    @torch.no_grad()
    def forward():
        policy(step_obs, state1, done1)

    def forward_backward():
        logits, values, _ = policy.forward_sequence(obs_seq, state_seq, dones)
        (logits.logsumexp(-1).mean() + values.mean()).backward()

    fwd_rate = rate(forward, 1.0)
    fb_rate = rate(forward_backward, 2.0)
    benchmark.pedantic(forward, rounds=50, iterations=1)
    fwd_us = 1e6 / fwd_rate / NUM_ENVS
    fb_us = 1e6 / fb_rate / (segments * ppo.bptt)
    report(f"policy forward us/env-step ({name}, batch {NUM_ENVS})", fwd_us, "{:.1f}")
    report(f"policy fwd+bwd us/env-step ({name}, minibatch {segments}x{ppo.bptt})", fb_us, "{:.1f}")
    report(f"learner us per collected step ({name}, 1 fwd + {ppo.update_epochs} fwd+bwd)",
           fwd_us + ppo.update_epochs * fb_us, "{:.1f}",
           note=f"{policy.num_parameters():,} parameters")


@pytest.mark.benchmark(group="train")
def test_overlap_sps_vs_sequential_sps(benchmark, report, tmp_path):
    """Learning from one rollout while collecting the next (--overlap on) against rollout-then-update, in the same
    run: on a CUDA GPU (when torch sees one) the update runs on its own stream beside the CPU's emulators; on a CPU
    both share the same cores, so the figure there says what overlap costs or gains without a GPU."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    policy = PolicyConfig(bf16=device == "cpu" and torch.backends.mkldnn.is_available())
    seq = train_steps_per_second(tmp_path / "seq", policy, iterations=6, device=device, overlap="off")
    ovl = train_steps_per_second(tmp_path / "ovl", policy, iterations=6, device=device, overlap="on")
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    report(f"overlap/sequential training steps/s ({device})", ovl["wall_sps"] / seq["wall_sps"],
           note=f"overlap {ovl['wall_sps']:.0f} vs sequential {seq['wall_sps']:.0f} steps/s, default policy"
                f"{' bf16' if policy.bf16 else ''}, {NUM_ENVS} envs")


@pytest.mark.benchmark(group="train")
def test_default_evaluation_share_of_training(benchmark, report, tmp_path):
    """The periodic evaluation the trainer runs by default (TrainConfig.eval_interval updates apart: eval_episodes
    envs of eval_steps steps, the policy alone) against the training time between two evaluations, both measured in
    the same run with the default policy and precision."""
    defaults = TrainConfig()
    result = train_steps_per_second(tmp_path, PolicyConfig(), iterations=2, eval_interval=2)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    iteration_s = result["rollout_s"] + result["update_s"]
    share = result["eval_s"] / (defaults.eval_interval * iteration_s + result["eval_s"])
    report("default evaluation share of training time", share,
           note=f"target < 0.05; one evaluation ({defaults.eval_episodes} x {defaults.eval_steps} steps) "
                f"{result['eval_s']:.1f} s vs {defaults.eval_interval} updates x {iteration_s:.2f} s")
