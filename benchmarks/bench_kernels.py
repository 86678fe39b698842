"""Native kernels vs their numpy references: µs per env per call, and the speed-up, measured in this run.

Each native stage runs over NUM_ENVS envs in one call (as update() does); the reference runs one env
at a time, the way a plain-Python env would.
"""

import numpy as np
import pytest

from pokerl_fast.game import constants as C
from pokerl_fast.env import reference as ref
from pokerl_fast._native import _core as K

from conftest import rate

NUM_ENVS = 64
COLOURS = np.array([[255, 255, 255, 255], [153, 153, 153, 255], [85, 85, 85, 255], [0, 0, 0, 255]], np.uint8)


def game_like_wram(rng):
    w = rng.integers(0, 256, C.WRAM_SIZE, dtype=np.uint8)
    base = C.WRAM_BASE
    w[C.CUR_MAP - base] = C.MAPS[rng.integers(len(C.MAPS))][0]
    w[C.X_COORD - base], w[C.Y_COORD - base] = rng.integers(0, 18, 2)
    w[C.PARTY_COUNT - base] = 6
    w[C.IS_IN_BATTLE - base] = 0
    w[C.NUM_BAG_ITEMS - base] = 5
    return w


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(0)
    wram = np.stack([game_like_wram(rng) for _ in range(NUM_ENVS)])
    screen = COLOURS[rng.integers(0, 4, (NUM_ENVS, C.SCREEN_H, C.SCREEN_W))]
    weights = np.ones(K.NUM_TERMS, np.float32)
    buffers = K.allocate_buffers(NUM_ENVS)
    kernels = K.Batch.from_pointers(NUM_ENVS, np.array([a.ctypes.data for a in wram], np.uint64),
                        np.array([a.ctypes.data for a in screen], np.uint64), weights, buffers)
    kernels.update()
    env = ref.ReferenceEnv(weights)
    counts = np.zeros(K.KANTO_SHAPE, np.uint32)
    env.update(wram[0], screen[0], counts)
    d = env.ram
    reference = {
        "all": lambda: env.update(wram[0], screen[0], counts),
        "decode": lambda: ref.decode_ram(wram[0]),
        "explore": lambda: env.explore.visit(d["map"], d["x"], d["y"]),
        "reward": lambda: env.reward.step(d, env.explore.count, weights),
        "screen": lambda: ref.encode_screen(screen[0]),
        "visited": lambda: env.explore.crop(d["map"], d["x"], d["y"]),
        "ram_features": lambda: ref.ram_features(d),
    }
    return kernels, reference


@pytest.mark.parametrize("stage", K.STAGES)
def test_kernel_speed(benchmark, report, world, stage):
    kernels, reference = world
    benchmark.group = f"kernels-{stage}"
    benchmark.pedantic(kernels.run_stage, args=(stage,), rounds=200, iterations=5, warmup_rounds=5)
    native_us = benchmark.stats.stats.median / NUM_ENVS * 1e6
    ref_us = 1e6 / rate(reference[stage], seconds=0.5)
    report(f"kernels/{stage} native us/env", native_us)
    report(f"kernels/{stage} numpy reference us/env", ref_us, fmt="{:.1f}")
    report(f"kernels/{stage} speed-up vs numpy", ref_us / native_us, fmt="{:.0f}x")
