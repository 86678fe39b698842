"""The map painted from observation (csrc/canvas.h) on the test world: the views line up (a step painted from one place looks the same seen from another), the trainer's
picture shows it, and the canvas survives get_state/set_state."""

from __future__ import annotations

import numpy as np
import pytest

import pokerl_fast
from pokerl_fast.env.vector import map_rect
from pokerl_fast._native import _core as K
from pokerl_fast.env import reference as ref
from pokerl_fast.game import constants as C
from pokerl_fast.watch.kanto_map import envs_picture

CELL = K.CANVAS_CELL


def test_views_line_up_on_the_test_world(start_state):
    """Walk the test world painting every still view; before each paint, every step the screen shows (but the
    player's own) that an earlier view painted must look the same on the canvas as on the screen now."""
    env = pokerl_fast.make_vec_env(1, start_state=start_state, seed=3)
    canvas = np.zeros(K.CANVAS_SHAPE, np.uint8)
    painted = np.zeros((C.KANTO_HEIGHT, C.KANTO_WIDTH), np.uint8)
    rng = np.random.default_rng(3)
    compared = paints = 0
    try:
        obs, _ = env.reset(seed=3)
        for t in range(400):
            action = rng.choice([0, 1, 2, 3]) if rng.random() < 0.9 else 4  # mostly walking, sometimes A
            obs, *_ = env.step([action])
            emu = env.emulators[0]
            wram = np.asarray(emu.wram_view())
            oam, lcdc = np.asarray(emu.oam_view()), emu.lcd_registers()[0]
            before_canvas, before_painted = canvas.copy(), painted.copy()
            n = K.paint_view(obs["screen"][0], oam, lcdc, wram, map_rect(int(wram[C.CUR_MAP - C.WRAM_BASE])), canvas,
                             painted)
            if n == 0:
                continue
            paints += 1
            shades = ref.unpack_shades(obs["screen"][0])
            fresh = (painted > 0) & (before_painted > 0)  # painted before and again now
            for ty, tx in zip(*np.nonzero(fresh)):
                old = before_canvas[ty * CELL:(ty + 1) * CELL, tx * CELL:(tx + 1) * CELL]
                new = canvas[ty * CELL:(ty + 1) * CELL, tx * CELL:(tx + 1) * CELL]
                compared += 1
                assert np.array_equal(old, new), f"step {t}: global step ({tx}, {ty}) looks different from here"
            del shades
        assert paints > 50 and compared > 1000
        assert painted.sum() > 40  # the rooms walked through
    finally:
        env.close()


def test_vec_env_paints_keeps_trails_and_restores_them(start_state):
    kw = dict(start_state=start_state, paint_interval=2)
    a = pokerl_fast.make_vec_env(2, **kw)
    b = pokerl_fast.make_vec_env(2, **kw)
    rng = np.random.default_rng(9)
    try:
        a.reset(seed=9)
        for _ in range(120):
            a.step(rng.integers(0, 4, 2))
        assert a.painted.sum() > 20 and a.canvas.any()
        assert (a.trails[:, -120:] >= 0).all() and (a.trails[:, :-120] == -1).all()  # one sample a step
        steps = np.abs(np.diff(a.trails[:, -120:], axis=1)).sum(-1)  # tile by tile: 0 (a wall, a press) or 1,
        assert ((steps <= 1) | (steps > 2)).all() and (steps == 1).any()  # or a door's jump
        pic = envs_picture(a)
        assert pic.ndim == 3 and pic.shape[2] == 3 and pic.shape[0] > 40
        b.reset(seed=1)
        b.set_state(a.get_state())
        assert np.array_equal(a.canvas, b.canvas) and np.array_equal(a.painted, b.painted)
        assert np.array_equal(a.trails, b.trails)
        for act in rng.integers(0, 4, (20, 2)):
            a.step(act)
            b.step(act)
        assert np.array_equal(a.canvas, b.canvas) and np.array_equal(a.trails, b.trails)
    finally:
        a.close()
        b.close()
    off = pokerl_fast.make_vec_env(1, start_state=start_state)
    try:
        assert off.canvas is None and "canvas" not in (off.reset() and off.get_state())
        with pytest.raises(ValueError, match="paint_interval"):
            envs_picture(off)
    finally:
        off.close()


def test_the_map_paints_the_same_from_pyboys_screen_as_from_the_native_picture():
    """eval films PyBoy's own screen (screen_source "pyboy"): the map behind its video must still be painted. The
    LCD registers the painter reads were only taken with the native picture, so nothing was painted there."""
    got = {}
    for source in ("native", "pyboy"):
        envs = pokerl_fast.make_vec_env(2, rom="benchworld", paint_interval=1, screen_source=source,
                                        reset_noop_max=0)
        try:
            envs.reset(seed=0)
            rng = np.random.default_rng(0)
            for _ in range(60):
                envs.step(rng.integers(0, 4, 2))
            got[source] = (envs.painted.copy(), envs.canvas.copy())
        finally:
            envs.close()
    assert got["pyboy"][0].sum() > 100
    assert np.array_equal(got["pyboy"][0], got["native"][0]) and np.array_equal(got["pyboy"][1], got["native"][1])
