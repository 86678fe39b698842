"""Environment speed, each figure a ratio against a baseline measured in the same run.

Runs on the bundled test world; with POKERL_ROM set, on the real game. The test world halts
most of each frame and emulates several times faster than Red, so the overhead in µs per
env step is reported beside each ratio.
"""

import io

import numpy as np
import pytest

import pokerl_fast
from pokerl_fast.env import load_start_state
from pokerl_fast.config import EnvConfig
from pokerl_fast.game.rom import resolve_rom
from pokerl_fast.game.emulator import new_pyboy

from conftest import best_rates, rate

BUTTONS = ("down", "left", "right", "up", "a", "b", "start")


@pytest.fixture(scope="module")
def rom_and_state():
    rom = resolve_rom(None)
    return rom, load_start_state(EnvConfig(), rom)


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def raw_pyboy(rom, state):
    pb = new_pyboy(rom.path)
    pb.load_state(io.BytesIO(state))
    return pb


def make_env(n, rom, state, **overrides):
    """A vector env on the benchmark's ROM and start state whose episodes never end mid-measurement."""
    env = pokerl_fast.make_vec_env(n, rom=rom.path, start_state=state, episode_length=10**9, **overrides)
    env.reset(seed=0)
    return env


def raw_step_fn(pb, seed=0):
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, len(BUTTONS), 4096)
    i = [0]

    def step():
        pb.button(BUTTONS[actions[i[0] & 4095]], 8)
        pb.tick(24, render=False)
        i[0] += 1

    return step


def env_step_fn(env, seed=0):
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, env.single_action_space.n, (4096, env.num_envs))
    i = [0]

    def step():
        env.step(actions[i[0] & 4095])
        i[0] += 1

    return step


@pytest.mark.benchmark(group="env-step")
def test_env_step_vs_raw_tick(benchmark, report, rom_and_state):
    """One env, one thread: our whole step (press, tick, decode, explore, reward, obs) vs button()+tick(24)."""
    rom, state = rom_and_state
    pb = raw_pyboy(rom, state)
    env = make_env(1, rom, state, num_threads=1)
    try:
        raw, ours = best_rates([raw_step_fn(pb), env_step_fn(env)])
        benchmark.pedantic(env_step_fn(env), rounds=200, iterations=1)
        report("env step / raw tick (steps/s ratio)", ours / raw, note=f"target >= 0.97 on Red; {rom.title}")
        report("env step overhead vs raw tick (us/step)", 1e6 / ours - 1e6 / raw, "{:+.1f}",
               note="target <= 30 us")
        report("raw pyboy steps/s (24 frames, 1 core)", raw, "{:.0f}")
    finally:
        env.close()
        pb.stop(save=False)


@pytest.mark.benchmark(group="env-step")
def test_vector_env_two_cores_vs_one_raw_emulator(benchmark, report, rom_and_state):
    rom, state = rom_and_state
    pb = raw_pyboy(rom, state)
    n = 8
    before = rss_mb()
    env = make_env(n, rom, state, num_threads=2)
    for _ in range(50):
        env.step(np.zeros(n, np.int64))
    per_env_mb = (rss_mb() - before) / n
    try:
        one_thread = make_env(n, rom, state, num_threads=1)
        raw, vec, single = best_rates([raw_step_fn(pb), env_step_fn(env), env_step_fn(one_thread)])
        vec, single = vec * n, single * n
        one_thread.close()
        benchmark.pedantic(env_step_fn(env), rounds=50, iterations=1)
        report(f"vector env ({n} envs, 2 threads) / 1 raw emulator", vec / raw, note="target >= 1.8 on 2 cores")
        report(f"vector env 2 threads / 1 thread ({n} envs)", vec / single)
        report("RSS per env (MB, growth of the process per env created and stepped)", per_env_mb, "{:.1f}",
               note="target <= 40 MB")
    finally:
        env.close()
        pb.stop(save=False)


@pytest.mark.benchmark(group="env-step")
def test_adaptive_steps_vs_fixed(benchmark, report, rom_and_state):
    rom, state = rom_and_state
    fixed = make_env(1, rom, state, num_threads=1)
    adaptive = make_env(1, rom, state, num_threads=1, adaptive_steps=True, min_frames_per_step=8)
    try:
        frames = []
        step = env_step_fn(adaptive)

        def counted():
            step()
            frames.append(int(adaptive._frames[0]))

        f_rate, a_rate = best_rates([env_step_fn(fixed), counted])
        benchmark.pedantic(step, rounds=200, iterations=1)
        report("adaptive / fixed steps/s", a_rate / f_rate)
        report("adaptive frames per step (fixed = 24)", float(np.mean(frames)), "{:.1f}")
    finally:
        fixed.close()
        adaptive.close()


def _process_worker(rom_path, state, seconds, out):
    env = pokerl_fast.make_vec_env(1, rom=rom_path, start_state=state, num_threads=1, episode_length=10**9)
    env.reset(seed=0)
    out.put(rate(env_step_fn(env), seconds))
    env.close()


@pytest.mark.benchmark(group="env-step")
def test_threads_vs_processes(benchmark, report, rom_and_state):
    """Two emulators on two cores: one process with 2 threads vs 2 processes with 1 env each."""
    import multiprocessing as mp

    rom, state = rom_and_state
    ctx = mp.get_context("spawn")  # fresh interpreters: no inherited OpenMP pool
    out = ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(str(rom.path), state, 3.0, out)) for _ in range(2)]
    for p in procs:
        p.start()
    proc_rate = sum(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join()
    env = make_env(2, rom, state, num_threads=2)
    try:
        thread_rate = rate(env_step_fn(env), 3.0) * 2
        benchmark.pedantic(env_step_fn(env), rounds=50, iterations=1)
        report("2 threads / 2 processes (env steps/s, 2 envs)", thread_rate / proc_rate,
               note=f"threads {thread_rate:.0f}/s, processes {proc_rate:.0f}/s")
    finally:
        env.close()


@pytest.mark.benchmark(group="env-step")
def test_save_load_round_trip_vs_bytesio(benchmark, report, rom_and_state):
    """A save + load of one emulator's state through the bridge's C buffer vs PyBoy's own BytesIO path."""
    rom, state = rom_and_state
    pb = raw_pyboy(rom, state)
    env = make_env(1, rom, state, num_threads=1)
    emu = env.emulators[0]
    try:
        def ours():
            emu.load_state(emu.save_state())

        def pyboys():
            f = io.BytesIO()
            pb.save_state(f)
            f.seek(0)
            pb.load_state(f)

        theirs_rate, ours_rate = best_rates([pyboys, ours], rounds=3, seconds=0.5)
        benchmark.pedantic(ours, rounds=50, iterations=1)
        report("save+load round trip: bridge / PyBoy BytesIO (speed ratio)", ours_rate / theirs_rate,
               note=f"bridge {1e3 / ours_rate:.2f} ms, BytesIO {1e3 / theirs_rate:.2f} ms")
    finally:
        env.close()
        pb.stop(save=False)
