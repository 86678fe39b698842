"""A save-state file the user passes (``--env.start-state``), read and checked against the ROM before a run starts.

A PyBoy state holds no mark of the ROM it was made with, so "made from another ROM" is judged from what the
state itself holds, without running it:

- **structure**: PyBoy loads it into this ROM's cartridge, and saving it again gives as many bytes (a damaged,
  truncated or padded file, or one from a cartridge with other RAM banks, does not);
- **graphics**: the tiles in video RAM were copied there from the ROM, so most distinct ones (16 bytes each, or
  the 8 bytes of a 1-bit-per-pixel tile drawn twice over, as Red draws its font) must occur in this ROM's bytes.
  Our worlds hold none of Red's graphics and Red none of ours, so a state from one given to the other has almost
  none (measured: every tile of a world's own states is found, 0 of a state whose tiles came from elsewhere);
- **place**, on our own worlds: the player's map and (x, y) must be a place in this world's layout, which tells a
  benchmark-world state from a test-world one (they share graphics) once the player has left the start rooms.

Each problem is one ``StartStateError`` line naming the file and what to do.

**Older PyBoy releases** (the peers ship states written by PyBoy 1.4-2.4): PyBoy 2.8.1 reads one byte
(``stat_transition``) after the LCD's ``next_stat_mode`` in every state of version 8 or later, but no release before
2.8 wrote it, so everything after it is read one byte early and loading fails at the file's end. ``upgrade_state``
inserts that byte (0: no transition pending) into states of versions 8-12 (PyBoy 1.5-2.4), which then load with
memory and screen as the writing release showed them (tests/game/test_old_states.py, states written by PyBoy
1.6.14, 2.0.3 and 2.4.1 with scripts/old_pyboy_states.py). Versions 13-15 (PyBoy 2.5-2.7) also lack sound fields
2.8.1 reads unconditionally and are refused in one line; version 7 and below PyBoy reads as they are. A state of an
older version is checked by the loader reading exactly its bytes, since saving it again writes today's layout.
"""

from __future__ import annotations

import io
import os
import pathlib
from typing import Callable

from pyboy.utils import STATE_VERSION

from pokerl_fast.game import constants as C
from pokerl_fast.game.emulator import new_pyboy
from pokerl_fast.game.red import StartStateError, load_into, read_wram
from pokerl_fast.game.rom import RomInfo

__all__ = ["MIN_TILES_FOUND", "check_state", "graphics_found", "read_state_file", "state_version", "upgrade_state"]

TILE_DATA = slice(0x8000 - C.VRAM_BASE, 0x9800 - C.VRAM_BASE)  # tile data; 0x9800- are the tile maps
TILE_BYTES = 16
MIN_TILES_FOUND = 0.25
"""Least share of video RAM's distinct tiles the ROM must hold. A state's own ROM holds all the tiles of our
worlds' states; the share is kept low because Red decompresses some tiles (Pokemon pictures in battle) and
scrolls others (water, flowers), which are then in no ROM."""
HINT = "pass a state saved with PyBoy 2.8.1 from this ROM, or leave env.start_state unset to start from the game's own start"


ONE_BYTE_SHORT = range(8, 13)
"""State versions PyBoy 2.8.1 reads with the one-byte correction (written by PyBoy 1.5-2.4)."""
UNREADABLE = range(13, 16)
"""State versions (PyBoy 2.5-2.7) whose sound state PyBoy 2.8.1 reads differently: refused."""
ROWS = 144  # the LCD's per-scanline parameters: 5 bytes a row from version 11


def state_version(state: bytes) -> int:
    """The layout version a PyBoy state was written in: its first byte (0 or 1 before versions existed: 1)."""
    return max(state[0], 1) if state else 0


def _stat_transition_at(v: int) -> int:
    """Where PyBoy 2.8.1 expects ``stat_transition`` in a DMG state of version ``v`` (8-12): after the header
    (version, boot ROM flag, KEY1, double speed, CGB flag), the CPU (registers, IME, halted, stopped, IE, the
    queued and flag registers, cycles from 12) and the LCD up to ``next_stat_mode`` (VRAM, OAM, LCDC, palettes,
    STAT, LY, LYC, scroll and window, scanline parameters from 11, CGB flag, speed shift, last cycles from 12,
    clock, clock target, next_stat_mode), as PyBoy 2.8.1's ``load_state`` reads them."""
    header = 2 + 3
    cpu = 6 + 3 * 2 + 1 + 2 + 1 + 2 + 8 * (v >= 12)
    lcd = (C.VRAM_SIZE + C.OAM_SIZE + 4 + 3 + 4 + 5 * ROWS * (v >= 11) + 2 + 8 * (v >= 12) + 8 + 8 + 1)
    return header + cpu + lcd


def upgrade_state(state: bytes) -> tuple[bytes, str | None]:
    """(the state as PyBoy 2.8.1 reads it, one line saying what was done, or None for today's states)."""
    v = state_version(state)
    if not state or v >= STATE_VERSION:
        return state, None
    said = f"a state of version {v}, written by an older PyBoy (2.8.1 writes {STATE_VERSION})"
    at = _stat_transition_at(v)
    if v in ONE_BYTE_SHORT and len(state) > at and not state[4]:  # state[4]: the CGB flag (Red runs as DMG)
        return state[:at] + b"\0" + state[at:], f"{said}: read with the byte PyBoy 2.8.1 expects after the LCD's mode"
    return state, f"{said}: read as it is"


def graphics_found(rom: bytes, vram: bytes) -> tuple[int, int]:
    """(tiles found in ``rom``, distinct tiles) over video RAM's tile data; tiles of under 3 distinct byte values
    (blank, solid, stripes) say nothing about where they came from and are not counted."""
    data = vram[TILE_DATA]
    tiles = {data[i:i + TILE_BYTES] for i in range(0, len(data), TILE_BYTES)}
    tiles = [t for t in tiles if len(set(t)) >= 3]
    found = 0
    for t in tiles:
        one_bit = t[0::2] == t[1::2]  # a 1bpp tile written twice per row
        found += rom.find(t) >= 0 or (one_bit and rom.find(t[0::2]) >= 0)
    return found, len(tiles)


def _place_problem(info: RomInfo, wram: bytes) -> str | None:
    if not info.world:
        return None
    from pokerl_fast.game.testworld import world_of
    from pokerl_fast.game.testworld.layout import LayoutError

    byte = lambda addr: wram[addr - C.WRAM_BASE]  # noqa: E731
    map_id, xy = byte(C.CUR_MAP), (byte(C.X_COORD), byte(C.Y_COORD))
    try:
        world_of(info.world).room_at(map_id, xy)
    except LayoutError:
        return f"puts the player at ({xy[0]},{xy[1]}) on map {map_id}, which is no place in the {info.world}"
    return None


def check_state(info: RomInfo, state: bytes) -> str | None:
    """Why ``state`` is not a PyBoy state made from this ROM (a phrase after the file's name), or None."""
    if not state:
        return "is empty"
    v = state_version(state)
    if v in UNREADABLE:
        return (f"is a state of version {v}, written by PyBoy 2.5-2.7, whose sound state PyBoy 2.8.1 cannot read; "
                "load it in the PyBoy that wrote it, or make the state again")
    state, _ = upgrade_state(state)
    pyboy = new_pyboy(info.path)
    try:
        source = io.BytesIO(state)
        problem = load_into(pyboy, source)
        if problem:
            return problem
        if v < STATE_VERSION:  # saving it again writes today's layout: the loader must have read every byte
            if source.tell() != len(state):
                return (f"has {len(state) - source.tell()} bytes after the end of a version-{v} state "
                        "(damaged, or made from another ROM)")
        else:
            again = io.BytesIO()
            pyboy.save_state(again)
            if len(again.getvalue()) != len(state):
                return (f"is {len(state)} bytes, but a state of this cartridge is {len(again.getvalue())} "
                        "(damaged, or made from another ROM)")
        vram = bytes(pyboy.memory[C.VRAM_BASE:C.VRAM_BASE + C.VRAM_SIZE])
        wram = read_wram(pyboy)
    finally:
        pyboy.stop(save=False)
    found, total = graphics_found(info.path.read_bytes(), vram)
    if total and found < MIN_TILES_FOUND * total:
        return (f"shows graphics this ROM does not hold ({found} of {total} tiles in video RAM are in "
                f"{info.path.name}): it was made from another ROM")
    return _place_problem(info, wram)


def read_state_file(path: str | os.PathLike, info: RomInfo, say: Callable[[str], object] = print) -> bytes:
    """The start-state file at ``path``, checked against ROM ``info`` (StartStateError otherwise), as PyBoy 2.8.1
    reads it: a state of an older PyBoy's layout is corrected (``upgrade_state``) and ``say`` told so in a line."""
    path = pathlib.Path(path).expanduser()
    if not path.exists():
        raise StartStateError(f"start state {path} does not exist; {HINT}")
    if not path.is_file():
        raise StartStateError(f"start state {path} is not a file; {HINT}")
    try:
        state = path.read_bytes()
    except OSError as e:
        raise StartStateError(f"cannot read start state {path} ({e.strerror or e}); check its permissions") from None
    problem = check_state(info, state)
    if problem:
        raise StartStateError(f"start state {path} {problem}; {HINT}")
    state, note = upgrade_state(state)
    if note:
        say(f"start state {path}: {note}")
    return state
