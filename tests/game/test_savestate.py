"""A user's start-state file is checked against the ROM: damaged files and states of another ROM are refused in
one line, a state of this ROM (at the start or anywhere else in its world) is accepted. Real states, real PyBoy."""

from __future__ import annotations

import io

import numpy as np
import pytest

import support
from pokerl_fast.game import constants as C
from pokerl_fast.game.emulator import new_pyboy
from pokerl_fast.game.red import StartStateError, read_wram, start_state
from pokerl_fast.game.rom import resolve_rom
from pokerl_fast.game.savestate import MIN_TILES_FOUND, check_state, graphics_found, read_state_file


@pytest.fixture(scope="module")
def worlds():
    return resolve_rom("testworld"), resolve_rom("benchworld")


@pytest.fixture(scope="module")
def bench_in_pallet() -> bytes:
    return support.benchworld_state_in_pallet()


def foreign_graphics(info, state: bytes, seed: int = 0) -> bytes:
    """``state`` with video RAM's tile data replaced by tiles this ROM does not hold: what a state of a game with
    other graphics (Red's, given to our world) looks like to the check."""
    pb = new_pyboy(info.path)
    try:
        pb.load_state(io.BytesIO(state))
        tiles = np.random.default_rng(seed).integers(0, 256, 0x1800, dtype=np.uint8)
        for i, b in enumerate(tiles):
            pb.memory[0x8000 + i] = int(b)
        return support.save_state(pb)
    finally:
        pb.stop(save=False)


def test_states_of_the_rom_itself_are_accepted(worlds, bench_in_pallet):
    for info in worlds:
        assert check_state(info, start_state(info.path)) is None
    assert check_state(worlds[1], bench_in_pallet) is None


def test_every_tile_of_a_world_state_is_in_its_rom_and_none_of_foreign_ones(worlds):
    info = worlds[0]
    state = start_state(info.path)
    rom = info.path.read_bytes()
    pb = new_pyboy(info.path)
    try:
        pb.load_state(io.BytesIO(state))
        own = graphics_found(rom, bytes(pb.memory[C.VRAM_BASE:C.VRAM_BASE + C.VRAM_SIZE]))
        pb.load_state(io.BytesIO(foreign_graphics(info, state)))
        other = graphics_found(rom, bytes(pb.memory[C.VRAM_BASE:C.VRAM_BASE + C.VRAM_SIZE]))
    finally:
        pb.stop(save=False)
    assert own[1] > 20 and own[0] == own[1]
    assert other[1] > 300 and other[0] < MIN_TILES_FOUND * other[1]


def test_graphics_found_counts_a_font_tile_drawn_from_one_bit_per_pixel():
    glyph = bytes([0x3C, 0x66, 0x6E, 0x76, 0x66, 0x66, 0x3C, 0x00])
    vram = bytearray(C.VRAM_SIZE)
    vram[0:16] = bytes(b for byte in glyph for b in (byte, byte))
    assert graphics_found(b"\x01" * 100 + glyph + b"\x02" * 100, bytes(vram)) == (1, 1)
    assert graphics_found(b"\x01" * 200, bytes(vram)) == (0, 1)


@pytest.mark.parametrize("case, match", [
    ("empty", "is empty"),
    ("random", "not a save state PyBoy can load"),
    ("truncated", "not a save state PyBoy can load|bytes, but a state of this cartridge"),
    ("padded", "bytes, but a state of this cartridge"),
    ("other graphics", "graphics this ROM does not hold"),
    ("benchworld place", "no place in the testworld"),
])
def test_damaged_or_foreign_states_are_refused_in_one_line(tmp_path, worlds, bench_in_pallet, case, match):
    testworld_info = worlds[0]
    own = start_state(testworld_info.path)
    data = {
        "empty": b"",
        "random": np.random.default_rng(1).integers(0, 256, len(own), dtype=np.uint8).tobytes(),
        "truncated": own[: len(own) // 2],
        "padded": own + bytes(64),
        "other graphics": foreign_graphics(testworld_info, own),
        "benchworld place": bench_in_pallet,
    }[case]
    path = tmp_path / "start.state"
    path.write_bytes(data)
    with pytest.raises(StartStateError, match=match) as e:
        read_state_file(path, testworld_info)
    assert "\n" not in str(e.value) and str(path) in str(e.value)


def test_the_place_check_tells_a_benchmark_world_state_from_a_test_world_one(worlds, bench_in_pallet):
    """A state's place (map and position) must be a place of the world: the place check alone, on the WRAM."""
    from pokerl_fast.game.savestate import _place_problem

    pb = new_pyboy(worlds[1].path)
    try:
        pb.load_state(io.BytesIO(bench_in_pallet))
        wram = read_wram(pb)
    finally:
        pb.stop(save=False)
    assert _place_problem(worlds[1], wram) is None
    assert "no place in the testworld" in _place_problem(worlds[0], wram)


def test_missing_path_and_folder_are_refused(tmp_path, worlds):
    with pytest.raises(StartStateError, match="does not exist"):
        read_state_file(tmp_path / "nope.state", worlds[0])
    with pytest.raises(StartStateError, match="is not a file"):
        read_state_file(tmp_path, worlds[0])
