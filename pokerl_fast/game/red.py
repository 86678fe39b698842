"""The start state, made from the user's own ROM: no save states ship with the code.

`start_state(rom)` plays Red's intro by script (title screen, Oak's speech, the preset names
RED and BLUE) until the player stands in the bedroom in control, checks that by reading RAM
rather than trusting a tick count, and caches the save state per ROM SHA-1 in the user's cache
folder. The RAM checks are pure functions over a WRAM byte array (0xC000-0xDFFF) so they can be
tested without the game; the test world shares Red's addresses.
"""

from __future__ import annotations

import io
import os
import pathlib
import warnings

from pokerl_fast.game import cache
from pokerl_fast.game import constants as C
from pokerl_fast.game.constants import (
    CUR_MAP,
    IS_IN_BATTLE,
    JOY_IGNORE,
    MAP_IDS,
    PLAYER_FACING,
    WALK_COUNTER,
    X_COORD,
    Y_COORD,
)
from pokerl_fast.game.emulator import SOUND_EMULATED, new_pyboy
from pokerl_fast.fileio import write_atomic
from pokerl_fast.game.rom import RomInfo, resolve_rom

__all__ = [
    "INTRO", "REDS_HOUSE_2F", "START_XY", "WRAM_START", "WRAM_SIZE", "SOUND_EMULATED", "StartStateError",
    "cache_path", "check_in_control", "check_probe", "check_start_position", "check_start_state",
    "cache_dir_default", "load_into", "make_start_state", "probe_control", "read_wram", "start_state", "state_bytes",
    "verify_state",
]

WRAM_START, WRAM_SIZE = C.WRAM_BASE, C.WRAM_SIZE
# Training runs without sound; the two settings drift apart, so states are made the same way.
REDS_HOUSE_2F = MAP_IDS["REDS_HOUSE_2F"]
START_XY = (3, 6)

# The intro, as (button or None, frames to tick after it). Measured with PyBoy 2.8.1 and
# sound_emulated=False; each press is button(b) (held one frame) then tick(frames).
INTRO: tuple[tuple[str | None, int], ...] = (
    ((None, 1500), ("start", 120), ("a", 120))
    + (("a", 60),) * 28
    + (("down", 20), ("a", 60))  # the preset player name RED
    + (("a", 60),) * 12
    + (("down", 20), ("a", 60))  # the preset rival name BLUE
    + (("a", 60),) * 17
)
# If a ROM's text runs a little longer, a few more A presses finish the dialog; bounded.
EXTRA_A_PRESSES = 20
PROBE_HOLD = 8  # frames the probe holds a direction
PROBE_WAIT = 32  # frames after it, enough for a turn or one step


class StartStateError(RuntimeError):
    """The scripted intro did not reach the player in control."""


# --- pure RAM checks -------------------------------------------------------------------------

def _wram_byte(wram: bytes, addr: int) -> int:
    if len(wram) != WRAM_SIZE:
        last = WRAM_START + WRAM_SIZE - 1
        raise ValueError(f"wram has {len(wram)} bytes, expected {WRAM_SIZE} (0x{WRAM_START:04X}-0x{last:04X}); "
                         "pass read_wram(pyboy)")
    return wram[addr - WRAM_START]


def check_start_position(wram: bytes, map_id: int = REDS_HOUSE_2F, xy: tuple[int, int] = START_XY) -> str | None:
    """Why the player is not at the start position, or None."""
    cur = _wram_byte(wram, CUR_MAP)
    if cur != map_id:
        return f"wCurMap is {cur}, expected {map_id}"
    pos = (_wram_byte(wram, X_COORD), _wram_byte(wram, Y_COORD))
    if pos != tuple(xy):
        return f"player is at (x, y) = {pos}, expected {tuple(xy)}"
    return None


def check_in_control(wram: bytes, hwy: int | None = None) -> str | None:
    """Why the player is not in free play (the overworld loop waiting for a d-pad press), or None.

    Map and position are set while Oak still talks, and wJoyIgnore is 0 all through his speech, so these are the
    bytes Red itself changes once the overworld runs (pret/pokered home/overworld.asm EnterMap, OverworldLoop;
    engine/menus/display_text_id_init.asm; home/init.asm): no script or map load blocking input (wJoyIgnore), no
    battle, no step under way, no text box or start menu (wFontLoaded bit 0), the joypad neither disabled nor
    simulated (wStatusFlags5 bits 5 and 7), and, where ``hwy`` (the game's hWY) is given, sprites updated as on a
    loaded map (wUpdateSpritesEnabled 1; 0xFF from power-on through the title, the main menu and Oak's speech) and
    no window (hWY 0x90; 0 while the intro, a menu or a text box shows it). ``hwy`` None: a world that keeps
    neither (the test world, which has no intro and no window in hWY)."""
    ignore = _wram_byte(wram, JOY_IGNORE)
    if ignore:
        return f"wJoyIgnore is 0x{ignore:02X}: a script or dialog still blocks input"
    battle = _wram_byte(wram, IS_IN_BATTLE)
    if battle:
        return f"wIsInBattle is {battle}: the player is in a battle"
    walk = _wram_byte(wram, WALK_COUNTER)
    if walk:
        return f"wWalkCounter is {walk}: the player is in the middle of a step"
    if _wram_byte(wram, C.FONT_LOADED) >> C.BIT_FONT_LOADED & 1:
        return "wFontLoaded's bit 0 is set: a text box or the start menu is open"
    flags = _wram_byte(wram, C.STATUS_FLAGS5) & (1 << C.BIT_DISABLE_JOYPAD | 1 << C.BIT_SCRIPTED_MOVEMENT_STATE)
    if flags:
        return f"wStatusFlags5 has 0x{flags:02X}: the joypad is disabled or a script moves the player"
    if hwy is not None:
        sprites = _wram_byte(wram, C.UPDATE_SPRITES_ENABLED)
        if sprites != 1:
            return f"wUpdateSpritesEnabled is 0x{sprites:02X}: the title, the main menu or the intro, not a map"
        if hwy != C.WY_NO_WINDOW:
            return f"hWY is 0x{hwy:02X}: the window is up (the intro, a speech or a menu)"
    return None


def check_start_state(wram: bytes, map_id: int = REDS_HOUSE_2F, xy: tuple[int, int] = START_XY,
                      hwy: int | None = None) -> str | None:
    return check_start_position(wram, map_id, xy) or check_in_control(wram, hwy)


def keeps_hwy(info: RomInfo) -> bool:
    """Whether the game keeps Red's hWY and wUpdateSpritesEnabled (Red, and our worlds with Red's time between
    events), so that check_in_control reads them."""
    if not info.is_testworld:
        return True
    from pokerl_fast.game import testworld

    return testworld.world_of(info.world).red_time


def read_hwy(pyboy, info: RomInfo) -> int | None:
    """The game's hWY for check_in_control, or None for a world that does not keep it."""
    return pyboy.memory[C.H_WY] if keeps_hwy(info) else None


def check_probe(before: bytes, after: bytes) -> str | None:
    """Why pressing a direction had no effect (no step, no turn), or None."""
    keys = ((X_COORD, "x"), (Y_COORD, "y"), (PLAYER_FACING, "facing"))
    if any(_wram_byte(before, a) != _wram_byte(after, a) for a, _ in keys):
        return None
    seen = ", ".join(f"{name}={_wram_byte(before, a)}" for a, name in keys)
    return f"pressing a direction changed neither position nor facing ({seen})"


# --- driving the emulator --------------------------------------------------------------------

def read_wram(pyboy) -> bytes:
    return bytes(pyboy.memory[WRAM_START:WRAM_START + WRAM_SIZE])


def state_bytes(pyboy) -> bytes:
    """The emulator's save state, as bytes."""
    f = io.BytesIO()
    pyboy.save_state(f)
    return f.getvalue()


def probe_control(pyboy) -> str | None:
    """Press LEFT, then RIGHT, from a saved state; None when either moved or turned the player.
    The emulator is put back exactly where it was. Two directions, because a player already facing
    a wall on one side neither turns nor steps."""
    saved = state_bytes(pyboy)
    before = read_wram(pyboy)
    reason = None
    try:
        for direction in ("left", "right"):
            pyboy.button(direction, PROBE_HOLD)
            pyboy.tick(PROBE_HOLD + PROBE_WAIT, render=False)
            reason = check_probe(before, read_wram(pyboy))
            pyboy.load_state(io.BytesIO(saved))
            if reason is None:
                return None
    finally:
        pyboy.load_state(io.BytesIO(saved))
    return reason


def _play_intro(pyboy) -> None:
    for button, frames in INTRO:
        if button is not None:
            pyboy.button(button)
        pyboy.tick(frames, render=False)
    # Text a little slower than measured still ends with a few more A presses (harmless once in control).
    for _ in range(EXTRA_A_PRESSES):
        if check_start_state(read_wram(pyboy), hwy=pyboy.memory[C.H_WY]) is None and probe_control(pyboy) is None:
            return
        pyboy.button("a")
        pyboy.tick(60, render=False)


def _start_spot(info: RomInfo) -> tuple[int, tuple[int, int]]:
    """(map id, (x, y)) where the player starts on this ROM."""
    if info.is_testworld:
        from pokerl_fast.game import testworld

        w = testworld.world_of(info.world)
        return w.room(w.start_room).map_id, tuple(w.start_xy)
    return REDS_HOUSE_2F, START_XY


def make_start_state(info: RomInfo) -> bytes:
    """Boot the ROM, reach the player in control, verify by RAM and a control probe, return the state."""
    pyboy = new_pyboy(info.path)
    try:
        if info.is_testworld:
            from pokerl_fast.game import testworld

            testworld.wait_ready(pyboy)  # the test world has no intro: it hands over control at boot
        else:
            _play_intro(pyboy)
        reason = check_start_state(read_wram(pyboy), *_start_spot(info), read_hwy(pyboy, info)) or probe_control(pyboy)
        if reason:
            raise StartStateError(
                f"the scripted intro of {info.path} did not leave the player in control ({reason}); "
                f"it needs Pokemon Red (UE) and PyBoy 2.8.1 -- check the ROM's SHA-1 and the PyBoy version")
        return state_bytes(pyboy)
    finally:
        pyboy.stop(save=False)


def load_into(pyboy, state: bytes | io.BytesIO) -> str | None:
    """Load ``state`` (bytes, or a file object left where the loader stopped) into ``pyboy``; why PyBoy cannot
    (a phrase after the state's name), or None."""
    try:
        pyboy.load_state(state if isinstance(state, io.BytesIO) else io.BytesIO(state))
    except Exception as e:  # PyBoy raises assorted errors on foreign or damaged states
        return f"is not a save state PyBoy can load ({type(e).__name__}: {e})"
    return None


def verify_state(info: RomInfo, state: bytes) -> str | None:
    """Why `state` is not a usable start state for this ROM, or None."""
    pyboy = new_pyboy(info.path)
    try:
        return (load_into(pyboy, state)
                or check_start_state(read_wram(pyboy), *_start_spot(info), read_hwy(pyboy, info))
                or probe_control(pyboy))
    finally:
        pyboy.stop(save=False)


# --- cache -----------------------------------------------------------------------------------

def cache_dir_default() -> pathlib.Path:
    """$POKERL_CACHE_DIR/states, or ~/.cache/pokerl_fast/states (the test world ROM sits one level up)."""
    return cache.cache_dir("states")


def cache_path(sha1: str, cache_dir: str | os.PathLike | None = None) -> pathlib.Path:
    folder = pathlib.Path(cache_dir).expanduser() if cache_dir is not None else cache_dir_default()
    return folder / f"{sha1}-sound{int(SOUND_EMULATED)}.state"


def start_state(rom_path: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None) -> bytes:
    """Save-state bytes of the player in control at the start, made from this ROM and cached.

    rom_path None means POKERL_ROM, else the bundled test world (see rom.resolve_rom). The cache
    is cache_dir, else $POKERL_CACHE_DIR, else ~/.cache/pokerl_fast/states; a cached state that
    is missing, damaged or fails the RAM checks is made again.
    """
    info = resolve_rom(rom_path)
    path = cache_path(info.sha1, cache_dir)
    if path.is_file():
        state = path.read_bytes()
        if verify_state(info, state) is None:
            return state
    state = make_start_state(info)
    try:
        write_atomic(path, state)
    except OSError as e:
        warnings.warn(f"could not cache the start state at {path} ({e}); set POKERL_CACHE_DIR to a writable "
                      f"folder to skip the intro next time", stacklevel=2)
    return state
