"""csrc/canvas.h paint_view (the map painted from what the envs saw, full resolution) and render.h render_background:
native and reference agree on random inputs."""

from __future__ import annotations

import numpy as np
import pytest

from pokerl_fast._native import _core as K
from pokerl_fast.env import reference as ref
from pokerl_fast.game import constants as C

from test_kernels import at, plausible_wram


def test_paint_view_matches_reference_on_random_inputs():
    rng = np.random.default_rng(41)
    painted_any = refused = 0
    for _ in range(160):
        w = plausible_wram(rng)
        w[at(C.IS_IN_BATTLE)] = rng.choice([0, 0, 0, 1])
        w[at(C.WALK_COUNTER)] = rng.choice([0, 0, 0, 3])
        w[at(C.CUR_MAP)] = rng.choice([0, 1, 12, 37, 38, 40, 11])  # maps with and without a global place
        w[at(C.X_COORD)], w[at(C.Y_COORD)] = rng.integers(0, 40, 2)
        vram = rng.integers(0, 256, C.VRAM_SIZE, dtype=np.uint8)
        oam = rng.integers(0, 256, 160, dtype=np.uint8)
        if rng.random() < 0.8:  # the player on a block: our worlds (top 16k) or Red (16k - 4)
            oam[0] = 16 + 16 * rng.integers(0, 9) - (4 if rng.random() < 0.5 else 0)
            oam[1] = 8 + 16 * rng.integers(0, 10)
        regs = rng.integers(0, 256, 8, dtype=np.uint8)
        # Red's LCDC (window enabled, hidden below the screen by WY 0x90), ours, a menu's window on screen, LCD off
        regs[0], regs[3] = [(0xE3, 0x90), (0xE3, 0x90), (0x93, 0), (0x93, 0), (0xF3, 0), (0xE3, 0), (0x13, 0),
                            (0x92, 0)][rng.integers(8)]
        a = [np.zeros(K.CANVAS_SHAPE, np.uint8), np.zeros((C.KANTO_HEIGHT, C.KANTO_WIDTH), np.uint8)]
        b = [np.zeros_like(a[0]), np.zeros_like(a[1])]
        clip = (0, 0, C.KANTO_WIDTH, C.KANTO_HEIGHT) if rng.random() < 0.75 else tuple(rng.integers(0, 400, 4))
        n = K.paint_view(vram, oam, regs, w, clip, *a)
        assert n == ref.paint_view(vram, oam, regs, w, clip, *b)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
        assert int(a[1].sum()) == n
        painted_any += n > 0
        refused += n == 0
    assert painted_any > 20 and refused > 30, (painted_any, refused)


@pytest.mark.parametrize("lcdc", [0x00, 0x81, 0x91, 0x83, 0x89, 0xE3, 0x99, 0x90])
def test_render_background_matches_reference(lcdc):
    rng = np.random.default_rng(lcdc)
    vram = rng.integers(0, 256, C.VRAM_SIZE, dtype=np.uint8)
    regs = rng.integers(0, 256, 8, dtype=np.uint8)
    regs[0] = lcdc
    got = K.render_background(vram, regs)
    assert got.shape == (C.SCREEN_H, C.SCREEN_W)
    assert np.array_equal(got, ref.render_background(vram, regs))
    assert got.any() == bool(lcdc & 0x80 and lcdc & 0x01)  # LCD or background off: blank


def test_one_canvas_cell_everywhere():
    from pokerl_fast.watch import kanto_map

    assert K.CANVAS_CELL == ref.CANVAS_CELL == kanto_map.CANVAS_CELL == 16  # the screen's own pixels per step
    assert K.CANVAS_SHAPE == (C.KANTO_HEIGHT * 16, C.KANTO_WIDTH * 16)
