"""The opt-in scripted helpers run inside the native frame loop; each changes exactly what it says."""

import numpy as np

import pokerl_fast
from pokerl_fast.game import constants as C
from pokerl_fast.game import testworld
from pokerl_fast._native import _core
from pokerl_fast.env.emulator import Emulator
from pokerl_fast.game.emulator import new_pyboy

JOY_HELD = 0xDF04  # the test world's copy of the buttons held this frame (docs/testworld.md)


def wram(env, i=0):
    return np.asarray(env.emulators[i].wram_view())


def money(env):
    w = wram(env)
    return bytes(w[C.PLAYER_MONEY - C.WRAM_BASE:C.PLAYER_MONEY - C.WRAM_BASE + 3])


def test_infinite_money_keeps_999999_and_is_off_by_default():
    on = pokerl_fast.make_vec_env(1, infinite_money=True)
    off = pokerl_fast.make_vec_env(1)
    try:
        on.reset(seed=0)
        off.reset(seed=0)
        assert money(on) == money(off) == bytes([0x00, 0x30, 0x00])  # the test world starts with 3000
        on.step(np.zeros(1, np.int64))
        off.step(np.zeros(1, np.int64))
        assert money(on) == bytes([0x99, 0x99, 0x99])
        assert money(off) == bytes([0x00, 0x30, 0x00])
    finally:
        on.close()
        off.close()


def test_auto_flash_clears_the_map_palette_offset():
    on = pokerl_fast.make_vec_env(1, auto_flash=True)
    off = pokerl_fast.make_vec_env(1, auto_flash=False)
    try:
        for env in (on, off):
            env.reset(seed=0)
            wram(env)[C.MAP_PAL_OFFSET - C.WRAM_BASE] = 6  # a dark cave's palette offset in Red
            env.step(np.zeros(1, np.int64))
        assert wram(on)[C.MAP_PAL_OFFSET - C.WRAM_BASE] == 0
        assert wram(off)[C.MAP_PAL_OFFSET - C.WRAM_BASE] == 6
    finally:
        on.close()
        off.close()


def test_auto_dialog_taps_a_only_while_input_is_ignored():
    pb = new_pyboy(testworld.testworld_rom_path())
    try:
        emu = Emulator(pb)
        testworld.boot(pb)
        start = emu.save_state()
        w = np.asarray(emu.wram_view())
        # A walk sets wJoyIgnore for 16 frames; after the 8-frame press, the helper taps A on frames 8, 10, ...
        emu.run_frames("right", 8, 11, helpers=_core.HELPER_AUTO_DIALOG)
        assert w[C.JOY_IGNORE - C.WRAM_BASE] != 0
        assert w[JOY_HELD - C.WRAM_BASE] & 0x01  # A held during the last frame (frame 10)
        emu.load_state(start)
        emu.run_frames("right", 8, 11)
        assert not w[JOY_HELD - C.WRAM_BASE] & 0x01
        # Standing still, input is not ignored: the helper presses nothing.
        emu.load_state(start)
        emu.run_frames("", 0, 11, helpers=_core.HELPER_AUTO_DIALOG)
        assert w[C.JOY_IGNORE - C.WRAM_BASE] == 0
        assert not w[JOY_HELD - C.WRAM_BASE] & 0x01
        # After a helper step the latch is released: the next press starts clean.
        emu.load_state(start)
        emu.run_frames("right", 8, 24, helpers=_core.HELPER_AUTO_DIALOG)
        emu.run_frames("", 0, 2)
        assert w[JOY_HELD - C.WRAM_BASE] == 0
    finally:
        pb.stop(save=False)
