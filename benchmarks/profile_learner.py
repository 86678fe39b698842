"""Where the learner's time goes: torch.profiler tables of one PPO update and of one rollout forward, as Markdown.

    python benchmarks/profile_learner.py [--plain] [--fp32] [--world]     # the tables in docs/performance.md

The update is the trainer's: the default policy (or --plain: without the fast path; --fp32: float32), 16 envs x
128 steps of the test world's observation shapes (random content, every image distinct; --world: the world's own
observations after random steps, whose images repeat), 3 epochs of 4 minibatches; the rollout forward
is one step of 16 envs, as ``ppo.act`` runs it inside ``Policy.acting``. Run it on a quiet machine: times taken
beside another CPU-heavy job are wrong by 2-50x.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.profiler import ProfilerActivity, profile

import pokerl_fast
from pokerl_fast import runtime
from pokerl_fast.config import PolicyConfig, PPOConfig
from pokerl_fast.learn import ppo
from pokerl_fast.learn.policy import Policy

NUM_ENVS = 16


def world_observations(buf: ppo.Rollout) -> None:
    """Fill the rollout's observations with the test world's own: 16 envs of the trainer's env config after 128
    random steps (the images repeat as a learning agent's do: about 44% of a minibatch's are distinct, against
    ~42% over a 600k-step training run on the benchmark world)."""
    import dataclasses

    import numpy as np

    from pokerl_fast.config import training_env

    config = training_env()
    envs = pokerl_fast.make_vec_env(NUM_ENVS, **{f.name: getattr(config, f.name) for f in dataclasses.fields(config)})
    try:
        envs.reset(seed=0)
        rng = np.random.default_rng(0)
        for step in range(2 * buf.num_steps):
            obs, *_ = envs.step(rng.integers(0, envs.single_action_space.n, NUM_ENVS))
            if step >= buf.num_steps:
                for key, tensor in buf.obs.items():
                    tensor[step - buf.num_steps] = torch.from_numpy(obs[key])
    finally:
        envs.close()


def setup(fast: bool, bf16: bool, world: bool = False):
    envs = pokerl_fast.make_vec_env(1, seed=0, observe_progress=True)
    space, actions = envs.single_observation_space, envs.single_action_space
    envs.close()
    torch.manual_seed(0)
    policy = Policy.from_spaces(space, actions, PolicyConfig(bf16=bf16, fast_path=fast))
    cfg = PPOConfig()
    buf = ppo.Rollout(space, cfg.num_steps, NUM_ENVS, policy.config.hidden_size, cfg.bptt, "cpu")
    gen = torch.Generator().manual_seed(0)
    for v in buf.obs.values():
        v.copy_(torch.randint(0, 256, v.shape, dtype=torch.uint8, generator=gen) if v.dtype == torch.uint8
                else torch.randn(v.shape, generator=gen))
    buf.actions.copy_(torch.randint(0, actions.n, buf.actions.shape, generator=gen))
    buf.rewards.normal_(generator=gen)
    buf.values.normal_(generator=gen)
    buf.logprobs.fill_(-2.0)
    if world:
        world_observations(buf)
    zeros = torch.zeros(NUM_ENVS)
    adv, ret = ppo.compute_gae(buf.rewards, buf.values, buf.dones, zeros, zeros, cfg.gamma, cfg.gae_lambda)
    batch = ppo.Batch.from_rollout(buf, adv, ret)
    fused = {"fused": True} if fast else {}
    optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.learning_rate, eps=cfg.adam_eps, **fused)
    minibatch = ppo.Batch.empty(batch, batch.num_segments // cfg.num_minibatches)
    carry = ppo.Carry({k: v[0].clone() for k, v in buf.obs.items()}, zeros.clone(), policy.initial_state(NUM_ENVS))
    return policy, optimizer, batch, minibatch, carry, cfg


def table(prof, title: str, rows: int) -> str:
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    out = [f"**{title}** (self CPU time {total / 1e3:.0f} ms)", "",
           "| op | calls | self ms | share | GFLOP |", "|---|---:|---:|---:|---:|"]
    for e in events[:rows]:
        flops = f"{e.flops / 1e9:.2f}" if e.flops else ""
        out.append(f"| `{e.key}` | {e.count} | {e.self_cpu_time_total / 1e3:.1f} | "
                   f"{e.self_cpu_time_total / total:.1%} | {flops} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain", action="store_true", help="without the fast path")
    parser.add_argument("--fp32", action="store_true", help="float32 (default: bfloat16 autocast)")
    parser.add_argument("--world", action="store_true",
                        help="the test world's observations (repeating images) instead of random bytes (all distinct)")
    args = parser.parse_args()
    fast = not args.plain
    torch.set_num_threads(2)
    torch.set_flush_denormal(fast)
    runtime.keep_freed_memory()  # as the trainer does (run/checks.configure_torch): no page faults per minibatch
    policy, optimizer, batch, minibatch, carry, cfg = setup(fast, not args.fp32, args.world)
    for _ in range(2):  # warm-up: oneDNN builds its kernels, Adam its state
        ppo.ppo_update(policy, optimizer, batch, cfg, minibatch)
    start = time.perf_counter()
    ppo.ppo_update(policy, optimizer, batch, cfg, minibatch)
    update_s = time.perf_counter() - start
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        ppo.ppo_update(policy, optimizer, batch, cfg, minibatch)
    images, distinct = policy.image_counts
    share = f", the CNN on {distinct / images:.0%} of the images (the distinct ones)" if images else ""
    print(f"one update: {update_s:.3f} s ({1e6 * update_s / batch.dones.numel():.0f} us per collected env step{share})\n")
    print(table(prof, "One PPO update", 14))
    with policy.acting("cpu"):
        for _ in range(20):
            ppo.act(policy, carry)
        start = time.perf_counter()
        for _ in range(200):
            ppo.act(policy, carry)
        act_s = (time.perf_counter() - start) / 200
        with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
            for _ in range(20):
                ppo.act(policy, carry)
    print(f"\none rollout forward ({NUM_ENVS} envs): {1e3 * act_s:.2f} ms\n")
    print(table(prof, "20 rollout forwards", 10))


if __name__ == "__main__":
    main()
