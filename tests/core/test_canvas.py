"""csrc/canvas.h paint_view (the map painted from observation): native and reference agree on random inputs."""

from __future__ import annotations

import numpy as np

from pokerl_fast._native import _core as K
from pokerl_fast.env import reference as ref
from pokerl_fast.game import constants as C

from test_kernels import at, plausible_wram


def test_paint_view_matches_reference_on_random_inputs():
    rng = np.random.default_rng(41)
    painted_any = refused = 0
    for _ in range(300):
        w = plausible_wram(rng)
        w[at(C.IS_IN_BATTLE)] = rng.choice([0, 0, 0, 1])
        w[at(C.WALK_COUNTER)] = rng.choice([0, 0, 0, 3])
        w[at(C.CUR_MAP)] = rng.choice([0, 1, 12, 37, 38, 40, 11])  # maps with and without a global place
        w[at(C.X_COORD)], w[at(C.Y_COORD)] = rng.integers(0, 40, 2)
        packed = rng.integers(0, 256, (C.OBS_H, C.OBS_PACKED_W), dtype=np.uint8)
        oam = rng.integers(0, 256, 160, dtype=np.uint8)
        if rng.random() < 0.8:  # the player on a block: our worlds (top 16k) or Red (16k - 4)
            oam[0] = 16 + 16 * rng.integers(0, 9) - (4 if rng.random() < 0.5 else 0)
            oam[1] = 8 + 16 * rng.integers(0, 10)
        lcdc = int(rng.choice([0x93, 0x93, 0xF3, 0x13]))
        a = [np.zeros(K.CANVAS_SHAPE, np.uint8), np.zeros((C.KANTO_HEIGHT, C.KANTO_WIDTH), np.uint8)]
        b = [np.zeros_like(a[0]), np.zeros_like(a[1])]
        clip = (0, 0, C.KANTO_WIDTH, C.KANTO_HEIGHT) if rng.random() < 0.5 else tuple(rng.integers(0, 400, 4))
        n = K.paint_view(packed, oam, lcdc, w, clip, *a)
        assert n == ref.paint_view(packed, oam, lcdc, w, clip, *b)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
        assert int(a[1].sum()) == n
        painted_any += n > 0
        refused += n == 0
    assert painted_any > 25 and refused > 50
