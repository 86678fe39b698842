"""The native half-resolution picture (csrc/render.h) against its reference and against PyBoy's renderer."""

import numpy as np
import pytest

from pokerl_fast.game import constants as C
from pokerl_fast.env import reference
from pokerl_fast.game import testworld
from pokerl_fast._native import _core
from pokerl_fast.env.emulator import Emulator
from pokerl_fast.game.emulator import new_pyboy

BUTTONS = ("down", "left", "right", "up", "a", "b", "start")


def random_ppu(rng, lcdc=None):
    vram = rng.integers(0, 256, C.VRAM_SIZE, dtype=np.uint8)
    oam = rng.integers(0, 256, 0xA0, dtype=np.uint8)
    # Put most objects on screen so they overlap and hit the 10-per-line limit.
    oam[0::4] = rng.integers(0, 160, 40)
    oam[1::4] = rng.integers(0, 168, 40)
    regs = rng.integers(0, 256, 8, dtype=np.uint8)
    regs[0] = rng.integers(0, 256) | 0x80 if lcdc is None else lcdc
    regs[3] = rng.integers(0, 144)  # WY on screen
    regs[4] = rng.integers(0, 167)  # WX on screen
    return vram, oam, regs


@pytest.mark.parametrize("seed", range(6))
def test_native_render_matches_reference_on_random_ppu_state(seed):
    rng = np.random.default_rng(seed)
    vram, oam, regs = random_ppu(rng)
    assert np.array_equal(_core.render_half(vram, oam, regs), reference.render_half(vram, oam, regs))


@pytest.mark.parametrize("lcdc", [0x00, 0x81, 0x83, 0x87, 0xE3, 0xF3, 0x91, 0xB9])
def test_native_render_matches_reference_per_lcdc_mode(lcdc):
    rng = np.random.default_rng(lcdc)
    vram, oam, regs = random_ppu(rng, lcdc)
    assert np.array_equal(_core.render_half(vram, oam, regs), reference.render_half(vram, oam, regs))


def test_native_picture_is_the_frame_pyboy_draws_next():
    """After a step the native picture equals PyBoy's rendering of the following frame, pixel for pixel."""
    pb = new_pyboy(testworld.testworld_rom_path())
    try:
        emu = Emulator(pb, native_screen=True)
        testworld.boot(pb)
        rng = np.random.default_rng(0)
        seen = set()
        for _ in range(150):
            emu.run_frames(BUTTONS[rng.integers(len(BUTTONS))], 8, 24)
            native = np.asarray(emu.shades_view()).copy()
            regs = emu.lcd_registers()
            ref = reference.render_half(np.asarray(emu.vram_view()), np.asarray(emu.oam_view()), regs)
            assert np.array_equal(native, ref)
            pb.tick(1, render=True)  # PyBoy's own renderer draws that frame
            emu.draw()
            pyboy_shades = 3 - (pb.screen.ndarray[::2, ::2, 0] >> 6)
            assert np.array_equal(native, pyboy_shades)
            seen.add(pb.memory[0xD35E])
        assert len(seen) >= 1
        assert len(np.unique(native)) >= 3  # walls, floor and the player are all drawn
    finally:
        pb.stop(save=False)


def test_kernels_pack_native_shades_like_the_reference():
    """The 'shades' screen source packs the bridge's 72x80 picture exactly as reference.pack_shades."""
    rng = np.random.default_rng(3)
    n = 3
    pictures = rng.integers(0, 4, (n, C.OBS_H, C.OBS_W), dtype=np.uint8)
    wram = np.zeros((n, C.WRAM_SIZE), np.uint8)
    buffers = _core.allocate_buffers(n)
    k = _core.Batch.from_pointers(n, np.array([w.ctypes.data for w in wram], np.uint64),
                         np.array([p.ctypes.data for p in pictures], np.uint64),
                         np.ones(len(_core.TERM_NAMES), np.float32), buffers, screen_format="shades")
    k.update()
    for i in range(n):
        assert np.array_equal(buffers["screen"][i], reference.pack_shades(pictures[i]))
        assert np.array_equal(reference.unpack_shades(buffers["screen"][i]), pictures[i])
