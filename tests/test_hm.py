"""Auto-use of HMs: the native decision (csrc/hm.h) against its Python reference, and the menu macro
driving the test world's Red-like menus in the real emulator."""

from __future__ import annotations

import numpy as np
import pytest

from pokerl_fast import constants as C
from pokerl_fast import reference as ref
from pokerl_fast._native import _emu

W = ref.WRAM_BASE
FIELD_AND_OTHER_MOVES = (C.MOVE_CUT, C.MOVE_SURF, C.MOVE_STRENGTH, C.MOVE_FLY, C.MOVE_FLASH, 0x0A, 0x21, 0)
FRONT = ref._FRONT_TILE
DPAD = {0x0: 0x8, 0x4: 0x4, 0x8: 0x2, 0xC: 0x1}


def random_hm_wram(rng: np.random.Generator) -> np.ndarray:
    """A WRAM image that lands near the decision's edges: trees, water and shores in various tilesets,
    badges, movesets and party counts, surfing, battles, text boxes."""
    wram = rng.integers(0, 256, ref.WRAM_SIZE, dtype=np.uint8)
    facing = int(rng.choice([0x0, 0x4, 0x8, 0xC, 0x0, 0x4, 0x8, 0xC, 0x2]))
    wram[C.PLAYER_FACING - W] = facing
    tiles = [C.CUT_TREE_TILE_OVERWORLD, C.CUT_TREE_TILE_GYM, C.WATER_TILE, C.WATER_SHORE_TILE_1,
             C.WATER_SHORE_TILE_2, int(rng.integers(0, 256))]
    col, row = FRONT.get(facing, (8, 11))
    pairs = [(C.TILESET_OVERWORLD, C.CUT_TREE_TILE_OVERWORLD), (C.TILESET_GYM, C.CUT_TREE_TILE_GYM),
             (C.TILESET_OVERWORLD, C.WATER_TILE), (17, C.WATER_SHORE_TILE_1), (C.TILESET_SHIP_PORT, C.WATER_TILE)]
    if rng.random() < 0.5:  # a tile the moves act on, in a tileset where they may
        tileset, tile = pairs[rng.integers(len(pairs))]
    else:
        tileset = rng.choice([C.TILESET_OVERWORLD, C.TILESET_GYM, C.TILESET_SHIP_PORT, 3, 17, 1, 24])
        tile = rng.choice(tiles)
    wram[C.TILE_MAP - W + row * C.TILE_MAP_WIDTH + col] = tile
    wram[C.CUR_MAP_TILESET - W] = tileset
    wram[C.OBTAINED_BADGES - W] = rng.choice([0, 0xFF, 1 << C.BIT_CASCADEBADGE, 1 << C.BIT_SOULBADGE,
                                              1 << C.BIT_RAINBOWBADGE, int(rng.integers(0, 256))])
    wram[C.PARTY_COUNT - W] = rng.integers(0, 8)
    for i in range(C.PARTY_MAX):
        base = C.PARTY_MON1_MOVES - W + i * C.PARTY_MON_STRIDE
        wram[base:base + 4] = rng.choice(FIELD_AND_OTHER_MOVES, 4)
    for addr, p_zero in ((C.JOY_IGNORE, 0.9), (C.WALK_COUNTER, 0.9), (C.IS_IN_BATTLE, 0.9)):
        if rng.random() < p_zero:
            wram[addr - W] = 0
    wram[C.WALK_BIKE_SURF_STATE - W] = rng.choice([0, 1, C.SURF_STATE_SURFING])
    return wram


def test_hm_plan_matches_reference_on_random_wram():
    rng = np.random.default_rng(5)
    kinds = {0: 0, 1: 0, 2: 0}
    for _ in range(6000):
        wram = random_hm_wram(rng)
        facing = int(wram[C.PLAYER_FACING - W])
        dmask = DPAD.get(facing, 0x8) if rng.random() < 0.8 else int(rng.choice([0, 1, 2, 4, 8, 3]))
        native = _emu.hm_plan(wram, dmask)
        assert native == ref.hm_plan(wram, dmask), (dmask, native)
        assert _emu.hm_strength_ready(wram) == ref.strength_ready(wram)
        kinds[native[0]] += 1
    # the generator reaches every outcome, so agreement is not vacuous
    assert min(kinds.values()) > 200, kinds


def test_hm_plan_cases():
    wram = np.zeros(ref.WRAM_SIZE, np.uint8)
    wram[C.PLAYER_FACING - W] = 0x4  # up
    col, row = FRONT[0x4]
    wram[C.TILE_MAP - W + row * C.TILE_MAP_WIDTH + col] = C.CUT_TREE_TILE_OVERWORLD
    wram[C.PARTY_COUNT - W] = 3
    wram[C.PARTY_MON1_MOVES - W + 2 * C.PARTY_MON_STRIDE + 3] = C.MOVE_CUT  # third mon, last slot
    assert _emu.hm_plan(wram, 0x4) == (0, -1, 0, 0)  # no Cascade badge
    wram[C.OBTAINED_BADGES - W] = 1 << C.BIT_CASCADEBADGE
    assert _emu.hm_plan(wram, 0x4) == (1, 2, C.FIELD_MOVE_CUT, 0)
    addr, bit = C.EVENT_FLAGS_BY_NAME["EVENT_GOT_POKEDEX"]
    wram[addr - W] |= 1 << bit
    assert _emu.hm_plan(wram, 0x4) == (1, 2, C.FIELD_MOVE_CUT, 1)  # POKEMON is the second start-menu entry
    assert _emu.hm_plan(wram, 0x8)[0] == 0  # pushing left while facing up: not toward the tree
    assert _emu.hm_plan(wram, 0)[0] == 0  # no d-pad press
    wram[C.JOY_IGNORE - W] = 0xFF
    assert _emu.hm_plan(wram, 0x4)[0] == 0  # a text box or script is running
    wram[C.JOY_IGNORE - W] = 0
    wram[C.PARTY_COUNT - W] = 2  # the mon with Cut is beyond the party count
    assert _emu.hm_plan(wram, 0x4)[0] == 0
    with pytest.raises(ValueError, match="8192 bytes"):
        _emu.hm_plan(np.zeros(10, np.uint8), 0)
