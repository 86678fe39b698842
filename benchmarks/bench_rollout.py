"""What a rollout costs: the trainer's rollout against its parts, timed in one run, and what the hot loop allocates.

1. The vector env alone (random actions), the policy's batch-16 forward alone (on a fixed observation) and a full
   ``collect_rollout`` (both, plus the storage and the statistics), each the best of interleaved rounds; the ratio
   rollout / (env + forward) is what the loop around them costs (target <= 1.2).
2. Tensor allocations per env step in the rollout and in the update, counted at the ATen level (every op output
   that does not reuse an input's storage), and minor page faults per env step of whole training runs with the
   shipped malloc settings and without them (``runtime.keep_freed_memory`` skipped), each in a fresh process.

Run: ``pytest benchmarks/bench_rollout.py --benchmark-only -s`` (about 3 minutes on 2 cores, alone on the machine).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from pokerl_fast.learn.ppo import act, collect_rollout
from pokerl_fast.config import TrainConfig
from pokerl_fast.run.checks import configure_torch
from pokerl_fast.run.learner import new_learner, start_fresh, update

ROUNDS = 5


def trainer_parts(bf16: bool):
    """The trainer's envs and learner (defaults, 16 envs on the test world), ready to roll out."""
    from pokerl_fast.env import VecEnv

    cfg = TrainConfig(device="cpu", progress=False)
    cfg = dataclasses.replace(cfg, policy=dataclasses.replace(cfg.policy, bf16=bf16))
    device = configure_torch(cfg)
    torch.manual_seed(0)
    envs = VecEnv(cfg.num_envs, cfg.env)
    learner = new_learner(cfg, envs, device)
    start_fresh(learner, envs, cfg, device)
    return cfg, envs, learner


def time_parts(bf16: bool) -> dict[str, float]:
    """Best seconds per vector step of the env alone, the forward alone and the full rollout."""
    cfg, envs, learner = trainer_parts(bf16)
    try:
        steps = cfg.ppo.num_steps
        actions = np.random.default_rng(0).integers(0, envs.single_action_space.n, (steps, cfg.num_envs))
        actions = actions.astype(envs.action_space.dtype)

        def env_alone():
            for t in range(steps):
                envs.step(actions[t])

        def forward_alone():
            for _ in range(steps):
                act(learner.policy, learner.carry)

        def rollout():
            collect_rollout(learner.policy, envs, learner.rollout, learner.carry, 0, learner.stats, 0)

        parts = {"env": env_alone, "forward": forward_alone, "rollout": rollout}
        best = dict.fromkeys(parts, float("inf"))
        for fn in parts.values():
            fn()  # warm-up
        for _ in range(ROUNDS):
            for name, fn in parts.items():
                start = time.perf_counter()
                fn()
                best[name] = min(best[name], (time.perf_counter() - start) / steps)
        return best
    finally:
        envs.close()


@pytest.mark.benchmark(group="rollout")
@pytest.mark.parametrize("bf16", [False, True], ids=["fp32", "bf16"])
def test_rollout_costs_its_parts(benchmark, report, bf16):
    best = time_parts(bf16)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    ratio = best["rollout"] / (best["env"] + best["forward"])
    report(f"rollout / (env alone + forward alone) ({'bf16' if bf16 else 'fp32'})", ratio,
           note=f"target <= 1.2; per vector step of 16 envs: env {best['env'] * 1e3:.2f} ms, forward "
                f"{best['forward'] * 1e3:.2f} ms, rollout {best['rollout'] * 1e3:.2f} ms")
    benchmark.extra_info.update({f"{k}_ms": v * 1e3 for k, v in best.items()})


class CountAllocations(TorchDispatchMode):
    """Counts the tensors ATen ops create: outputs whose storage is not one of the inputs' (views, in-place
    ops and ``out=`` reuse storage)."""

    def __init__(self):
        super().__init__()
        self.count, self.bytes = 0, 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        inputs = {t.untyped_storage().data_ptr() for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)}
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor) and t.untyped_storage().data_ptr() not in inputs:
                self.count += 1
                self.bytes += t.untyped_storage().nbytes()
        return out


def test_allocations_per_env_step(benchmark, report):
    cfg, envs, learner = trainer_parts(bf16=False)
    try:
        collect_rollout(learner.policy, envs, learner.rollout, learner.carry, 0, learner.stats, 0)  # warm-up
        steps = cfg.batch_size
        counts = {}
        with CountAllocations() as rollout_counter:
            collect_rollout(learner.policy, envs, learner.rollout, learner.carry, 0, learner.stats, 0)
        counts["rollout"] = rollout_counter
        with CountAllocations() as update_counter:
            update(learner, cfg)
        counts["update"] = update_counter
    finally:
        envs.close()
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    for phase, c in counts.items():
        report(f"tensor allocations per env step ({phase})", c.count / steps, fmt="{:.2f}",
               note=f"{c.bytes / steps / 1024:.1f} KiB per env step; {cfg.num_envs} envs, fp32 policy")
        benchmark.extra_info[f"{phase}_allocations_per_step"] = c.count / steps


FAULTS_SCRIPT = """
import dataclasses, json, resource, sys
from pokerl_fast import runtime
runtime.tune_openmp()
from pokerl_fast.config import TrainConfig
from pokerl_fast.run.train import train
if sys.argv[2] == "off":
    runtime.keep_freed_memory = lambda: False
cfg = TrainConfig(run_dir=sys.argv[1], total_steps=2048 * 6, progress=False, map_png_iterations=0)
warm = dataclasses.replace(cfg, run_dir=sys.argv[1] + "-warm", total_steps=2048)
train(warm)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
out = train(cfg)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"faults": faults, "steps": out["global_step"]}))
"""


def test_page_faults_per_env_step(benchmark, report, tmp_path):
    """Minor page faults per env step of a default training run (after a warm-up run in the same process)."""
    per_step = {}
    for setting in ("on", "off"):
        out = subprocess.run([sys.executable, "-c", FAULTS_SCRIPT, str(tmp_path / setting), setting],
                             capture_output=True, text=True, timeout=1200)
        assert out.returncode == 0, out.stderr[-2000:]
        result = json.loads(out.stdout.strip().splitlines()[-1])
        per_step[setting] = result["faults"] / result["steps"]
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    report("minor page faults per env step (shipped malloc settings)", per_step["on"], fmt="{:.2f}")
    report("minor page faults per env step, without keep_freed_memory / with", per_step["off"] / max(per_step["on"], 1e-9),
           fmt="{:.1f}", note=f"{per_step['off']:.1f} vs {per_step['on']:.2f} per env step")
    benchmark.extra_info.update(faults_on=per_step["on"], faults_off=per_step["off"])
