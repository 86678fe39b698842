"""Every decision of the native step (csrc/step.h, csrc/hm_macro.h) against its Python reference
(pokerl_fast/env/reference.py): on random inputs, and on the RAM sequences the real emulator produces."""

from __future__ import annotations

import numpy as np
import pytest

from pokerl_fast.game import constants as C
from pokerl_fast.env import reference as ref
from pokerl_fast._native import _core

from test_hm import TACKLE, TREE, WATER, emulator_from, random_hm_wram, state_facing

W = ref.WRAM_BASE
HELPERS = (_core.HELPER_AUTO_DIALOG, _core.HELPER_INFINITE_MONEY, _core.HELPER_AUTO_FLASH, _core.HELPER_AUTO_HM)


def test_the_references_name_the_same_constants():
    assert HELPERS == (ref.HELPER_AUTO_DIALOG, ref.HELPER_INFINITE_MONEY, ref.HELPER_AUTO_FLASH, ref.HELPER_AUTO_HM)
    for name in ("HM_OP_DONE", "HM_OP_TAP", "HM_OP_WAIT", "HM_OP_CLEAR_MENU", "HM_USED", "HM_ABORTED", "HM_NOTHING",
                 "HM_HOLD", "HM_TAP", "HM_OPEN_TRIES", "HM_OPEN_WAIT", "HM_SETTLE", "HM_NAV_TRIES", "HM_CLOSE_TAPS",
                 "HM_CLOSE_LIMIT", "HM_NO_MENU"):
        assert getattr(_core, name) == getattr(ref, name), name


def test_frame_control_matches_reference_on_random_inputs():
    rng = np.random.default_rng(0)
    seen = set()
    wram = np.zeros(ref.WRAM_SIZE, np.uint8)
    for _ in range(20000):
        max_frames = int(rng.integers(1, 30))
        hold = int(rng.integers(0, max_frames + 1))
        min_frames = int(rng.integers(0, max_frames + 1))
        f = int(rng.integers(0, max_frames))
        adaptive = bool(rng.random() < 0.5)
        helpers = int(rng.integers(0, 16))
        tapping = bool(rng.random() < 0.3)
        wram[C.JOY_IGNORE - W] = rng.choice([0, 0, 1, 0xFF])
        wram[C.WALK_COUNTER - W] = rng.choice([0, 0, 0, 3])
        args = (f, hold, min_frames, max_frames, adaptive, helpers, tapping, wram)
        native = _core.frame_control(*args)
        assert native == ref.frame_control(*args), args
        seen.add(native)
    assert {d for _, d, _ in seen} == {0, 1, 2} and {(r, l) for r, _, l in seen} >= {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_helpers_pin_the_same_bytes_as_the_reference():
    rng = np.random.default_rng(1)
    changed = 0
    for _ in range(3000):
        wram = random_hm_wram(rng)
        helpers = int(rng.integers(0, 16))
        native, plain = wram.copy(), wram.copy()
        _core.keep_helpers(native, helpers)
        ref.keep_helpers(plain, helpers)
        _core.keep_strength(native)
        ref.keep_strength(plain)
        assert np.array_equal(native, plain)
        changed += not np.array_equal(native, wram)
    assert changed > 1000


def macro_wram(rng: np.random.Generator) -> np.ndarray:
    """A WRAM image for which the macro starts: facing a tree with Cut (or water with Surf)."""
    while True:
        wram = random_hm_wram(rng)
        if _core.hm_plan(wram, ref._FACING_DPAD.get(int(wram[C.PLAYER_FACING - W]), 0))[0]:
            return wram


def respond(rng: np.random.Generator, wram: np.ndarray, macro, cmd, stage: int, cooperative: bool) -> None:
    """What a game might do after a command: a cooperative game mostly answers as Red's menus do (the menu
    asked for opens, a cursor press moves the cursor one row), an erratic one writes anything anywhere."""
    plan = macro.plan
    if cooperative:
        if cmd[0] == ref.HM_OP_TAP and cmd[1] and rng.random() < 0.9:  # a cursor press moves the cursor
            wram[C.CURRENT_MENU_ITEM - W] = (int(wram[C.CURRENT_MENU_ITEM - W]) + (1 if cmd[1] == 0x8 else -1)) & 0xFF
        if cmd[0] in (ref.HM_OP_TAP, ref.HM_OP_WAIT) and rng.random() < 0.3:  # the menu asked for answers
            if stage == 0:
                wram[C.MAX_MENU_ITEM - W] = C.START_MENU_ITEMS_WITH_POKEDEX - 1 + plan[3]
            elif stage == 2:
                wram[C.MAX_MENU_ITEM - W] = (int(wram[C.PARTY_COUNT - W]) - 1) & 0xFF
            elif stage == 4:
                moves = [C.FIELD_MOVE_FLASH, plan[2], 0, 0] if rng.random() < 0.5 else [plan[2], 0, 0, 0]
                wram[C.FIELD_MOVES - W:C.FIELD_MOVES - W + 4] = moves
                wram[C.MAX_MENU_ITEM - W] = sum(m != 0 for m in moves) + 2
            wram[C.CURRENT_MENU_ITEM - W] = rng.integers(0, 4)
        if stage >= 7 and rng.random() < 0.2:  # closing: control comes back
            wram[C.JOY_IGNORE - W] = 0
            wram[C.WALK_COUNTER - W] = 0
        return
    expected = [0xFF, 0xFF, C.START_MENU_ITEMS_WITH_POKEDEX - 1 + plan[3],
                int(wram[C.PARTY_COUNT - W]) - 1 & 0xFF, int(rng.integers(2, 7)), int(rng.integers(0, 256))]
    if rng.random() < 0.4:
        wram[C.MAX_MENU_ITEM - W] = rng.choice(expected)
    if rng.random() < 0.4:
        wram[C.CURRENT_MENU_ITEM - W] = rng.choice([plan[1], plan[3], 0, 1, 2, 3, int(rng.integers(0, 256))])
    if rng.random() < 0.1:
        wram[C.FIELD_MOVES - W:C.FIELD_MOVES - W + 4] = rng.choice([0, plan[2], C.FIELD_MOVE_FLASH, 7], 4)
    if rng.random() < 0.2:
        wram[C.JOY_IGNORE - W] = rng.choice([0, 0, 0xFF])
        wram[C.WALK_COUNTER - W] = rng.choice([0, 0, 2])


def test_hm_macro_matches_reference_on_random_ram_sequences():
    rng = np.random.default_rng(2)
    outcomes, ops = {}, set()
    for _ in range(1500):
        wram = macro_wram(rng)
        dmask = ref._FACING_DPAD[int(wram[C.PLAYER_FACING - W])]
        native, plain = _core.HmMacro.start(wram, dmask), ref.HmMacro(wram, dmask)
        assert native.plan == plain.plan
        cooperative = rng.random() < 0.5
        for n in range(5000):
            cmd = native.next(wram)
            assert cmd == plain.next(wram), (n, cmd, native.fields)
            ops.add(cmd[0])
            if cmd[0] == ref.HM_OP_DONE:
                break
            if cmd[0] == ref.HM_OP_CLEAR_MENU:
                wram[C.MAX_MENU_ITEM - W] = ref.HM_NO_MENU
            respond(rng, wram, plain, cmd, native.fields["stage"], cooperative)
        assert native.next(wram)[0] == ref.HM_OP_DONE  # stays done
        assert native.outcome == plain.outcome
        outcomes[plain.outcome] = outcomes.get(plain.outcome, 0) + 1
    assert ops == {0, 1, 2, 3}
    assert outcomes.get(ref.HM_USED, 0) > 100 and outcomes.get(ref.HM_ABORTED, 0) > 100, outcomes


def test_hm_macro_does_nothing_without_a_plan():
    wram = np.zeros(ref.WRAM_SIZE, np.uint8)
    native, plain = _core.HmMacro.start(wram, 0x4), ref.HmMacro(wram, 0x4)
    assert native.outcome == plain.outcome == ref.HM_NOTHING
    assert native.next(wram) == plain.next(wram) == (ref.HM_OP_DONE, 0, 0, 0)


@pytest.mark.parametrize("cell, movesets, pokedex, party_menu_item", [
    (TREE, [[TACKLE], [TACKLE, C.MOVE_FLASH], [TACKLE, C.MOVE_SURF, C.MOVE_CUT]], False, 0),
    (TREE, [[TACKLE, C.MOVE_SURF, C.MOVE_CUT], [TACKLE]], True, 1),
    (WATER, [[TACKLE], [C.MOVE_SURF, C.MOVE_STRENGTH]], False, 0),
])
def test_hm_macro_replayed_in_the_emulator_matches_reference_and_the_native_step(cell, movesets, pokedex,
                                                                                party_menu_item):
    """The macro driven one command at a time on the real test world: the native machine and the reference
    choose the same command from every RAM the game shows, and the run equals the native step's own
    (same frames, same RAM at the end)."""
    state = state_facing(cell, movesets=movesets, pokedex=pokedex, party_menu_item=party_menu_item)
    pb, emu = emulator_from(state)
    pb2, whole = emulator_from(state)
    try:
        up = 0x4
        frames = emu.run_frames("up")  # the agent's step, without helpers
        wram = np.asarray(emu.wram_view())
        _core.keep_strength(wram)
        native, plain = _core.HmMacro.start(wram, up), ref.HmMacro(wram.copy(), up)
        assert native.plan[0] in (1, 2)
        commands = 0
        while True:
            snapshot = wram.copy()
            cmd = native.next(snapshot)
            assert cmd == plain.next(snapshot)
            if cmd[0] == ref.HM_OP_DONE:
                break
            frames += emu.driver.execute(*cmd)
            commands += 1
        assert native.outcome == plain.outcome == ref.HM_USED
        assert commands > 10
        expected = whole.run_frames("up", helpers=_core.HELPER_AUTO_HM)
        assert whole.hm_used == 1
        assert frames == expected
        assert bytes(emu.wram_view()) == bytes(whole.wram_view())
    finally:
        pb.stop(save=False)
        pb2.stop(save=False)
