"""The map painted from what the envs saw (csrc/canvas.h: the background layer at the screen's resolution) on the test
and benchmark worlds: the views line up (a step painted from one place looks the same seen from another), a painted
room's pixels are the pixels PyBoy's screen showed there (sprites aside), the trainer's picture shows it, and the canvas
survives get_state/set_state (and states from before the full-resolution canvas)."""

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
    """Walk the test world painting every still view; before each paint, every step the screen shows that an
    earlier view painted must look the same on the canvas as on the screen now (the player's own step too: sprites
    are not painted)."""
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
            oam, regs = np.asarray(emu.oam_view()), emu.lcd_registers()
            before_canvas, before_painted = canvas.copy(), painted.copy()
            n = K.paint_view(emu.vram_view(), oam, regs, wram, map_rect(int(wram[C.CUR_MAP - C.WRAM_BASE])), canvas,
                             painted)
            if n == 0:
                continue
            paints += 1
            fresh = (painted > 0) & (before_painted > 0)  # painted before and again now
            for ty, tx in zip(*np.nonzero(fresh)):
                old = before_canvas[ty * CELL:(ty + 1) * CELL, tx * CELL:(tx + 1) * CELL]
                new = canvas[ty * CELL:(ty + 1) * CELL, tx * CELL:(tx + 1) * CELL]
                compared += 1
                assert np.array_equal(old, new), f"step {t}: global step ({tx}, {ty}) looks different from here"
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


def test_a_painted_room_shows_the_pixels_pyboys_screen_showed():
    """The image check: on the benchmark world, after each still view is painted, PyBoy renders the same frame; every
    canvas pixel of the steps on screen equals the screen's pixel there (as a DMG shade), except under a sprite (the
    player, people: the canvas keeps the ground). The painted room is then the screens' own terrain at 16x16 pixels a
    step."""
    envs = pokerl_fast.make_vec_env(1, rom="benchworld", paint_interval=1, screen_source="pyboy", reset_noop_max=0)
    rng = np.random.default_rng(5)
    checked = differing = 0
    try:
        envs.reset(seed=5)
        for t in range(300):
            envs.step([rng.choice([0, 1, 2, 3]) if rng.random() < 0.85 else 4])
            emu = envs.emulators[0]
            wram = np.asarray(emu.wram_view())
            before = envs.painted.copy()
            canvas = np.zeros(K.CANVAS_SHAPE, np.uint8)
            painted = np.zeros_like(envs.painted)
            oam, regs = np.asarray(emu.oam_view()).copy(), emu.lcd_registers()
            if K.paint_view(emu.vram_view(), oam, regs, wram, map_rect(int(wram[C.CUR_MAP - C.WRAM_BASE])), canvas,
                            painted) == 0:
                continue
            emu.pyboy.tick(1, render=True)  # PyBoy draws the frame these registers describe
            screen = 3 - (np.asarray(emu.pyboy.screen.ndarray)[..., 0] >> 6)
            under_sprite = np.zeros(screen.shape, bool)
            for i in range(40):
                y, x = int(oam[4 * i]) - 16, int(oam[4 * i + 1]) - 8
                under_sprite[max(y, 0):max(y + 16, 0), max(x, 0):max(x + 8, 0)] = True
            g = ref.global_tile(int(wram[C.CUR_MAP - C.WRAM_BASE]), int(wram[C.X_COORD - C.WRAM_BASE]),
                                int(wram[C.Y_COORD - C.WRAM_BASE]))
            pc, pr = (int(oam[1]) - 8) // 16, (int(oam[0]) - 16 + 4) // 16
            for ty, tx in zip(*np.nonzero(painted)):
                r, c = ty - g[1] + pr, tx - g[0] + pc
                shown = screen[r * CELL:(r + 1) * CELL, c * CELL:(c + 1) * CELL]
                mine = canvas[ty * CELL:(ty + 1) * CELL, tx * CELL:(tx + 1) * CELL]
                free = ~under_sprite[r * CELL:(r + 1) * CELL, c * CELL:(c + 1) * CELL]
                assert np.array_equal(mine[free], shown[free]), f"step {t}: global step ({tx}, {ty})"
                differing += int((mine != shown).sum())
                checked += int(free.sum())
            assert np.array_equal(envs.painted | before, envs.painted)
        assert checked > 100_000  # many views of the rooms walked through
        assert differing > 0  # the sprites on screen were not painted
        assert len(np.unique(envs.canvas[envs.canvas > 0])) >= 2  # terrain in several shades, not flat squares
    finally:
        envs.close()


def test_states_from_before_the_full_resolution_canvas_are_scaled_up(start_state):
    """A checkpoint written when the canvas kept 8x8 pixels a step (the whole canvas packed as "shades") restores
    each painted step at 16x16, every old pixel a 2x2 block."""
    from pokerl_fast.env.vector import _pack4, canvas_state, restore_canvas

    rng = np.random.default_rng(2)
    painted = np.zeros((C.KANTO_HEIGHT, C.KANTO_WIDTH), np.uint8)
    painted[rng.integers(0, C.KANTO_HEIGHT, 30), rng.integers(0, C.KANTO_WIDTH, 30)] = 1
    half = rng.integers(0, 4, (C.KANTO_HEIGHT * 8, C.KANTO_WIDTH * 8), dtype=np.uint8)
    old = {"shades": _pack4(half), "painted": np.packbits(painted)}
    canvas = np.full(K.CANVAS_SHAPE, 3, np.uint8)
    got = np.ones_like(painted)  # every step painted before: all cleared, then the saved ones restored
    restore_canvas(canvas, got, old)
    assert np.array_equal(got, painted)
    for ty, tx in zip(*np.nonzero(painted)):
        want = half[ty * 8:(ty + 1) * 8, tx * 8:(tx + 1) * 8].repeat(2, 0).repeat(2, 1)
        assert np.array_equal(canvas[ty * CELL:(ty + 1) * CELL, tx * CELL:(tx + 1) * CELL], want)
    assert canvas.sum() == sum(int(canvas[ty * CELL:(ty + 1) * CELL, tx * CELL:(tx + 1) * CELL].sum())
                               for ty, tx in zip(*np.nonzero(painted)))  # nothing else left painted
    again = np.zeros_like(canvas), np.zeros_like(painted)
    saved = canvas_state(canvas, got)
    assert saved["steps"].nbytes == int(painted.sum()) * CELL * CELL // 4  # the painted steps only
    restore_canvas(*again, saved)
    assert np.array_equal(again[0], canvas) and np.array_equal(again[1], got)


def test_the_route_paints_the_benchmark_world_from_the_bedroom_to_brock(tmp_path, capsys):
    """``python -m pokerl_fast.watch.route_map PNG``: the README's picture. Every map the route walks is painted
    (rooms of 10 x 9 steps and more), the picture holds the terrain's four shades and the walk."""
    from PIL import Image

    from pokerl_fast.watch import route_map
    from pokerl_fast.watch.kanto_map import SHADES

    out = tmp_path / "route.png"
    assert route_map.main([str(out)]) == 0
    said = capsys.readouterr().out
    assert "EVENT_BEAT_BROCK: frame" in said
    painted = int(said.rsplit("(", 1)[1].split()[0])
    assert painted > 1500
    pic = np.asarray(Image.open(out).convert("RGB"))
    assert pic.shape[0] > 2000 and pic.shape[1] > 1000  # Pallet Town to Pewter City at 16 pixels a step
    for shade in SHADES:  # untinted terrain in every DMG shade (rooms off the walk keep their plain colours)
        assert (pic == shade).all(-1).sum() > 1000
