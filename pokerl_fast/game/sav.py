"""Start from a battery save (``--start-save FILE.sav``): the cartridge RAM an emulator keeps beside the ROM.

Red keeps its progress in cartridge RAM (pret/pokered ram/sram.asm): bank 1 holds the player's name, the main data
(map, position, events, bag, badges, Pokedex), the sprites, the party and the current box, then
``sMainDataCheckSum``, the complement of their byte sum. ``check_sav`` reads a file as Red's main menu does before it
offers CONTINUE (a name ending in "@", a matching sum) and names what is wrong in one line. ``start_state_from_sav``
boots the ROM with the save, passes the title screen, the main menu's CONTINUE and the player's info box by
pressing A while the game has not yet loaded a map (wUpdateSpritesEnabled 0xFF), waits for free play
(red.check_in_control), checks that the player stands where the save says and answers a d-pad press, and caches
the state in the user's cache like the game's own start. Our benchmark world with saves (``--rom benchsave``) saves
and continues the same way (testworld/savegame.py), so all of it runs in tests.
"""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import warnings

from pokerl_fast.fileio import write_atomic
from pokerl_fast.game import constants as C
from pokerl_fast.game.emulator import cartridge_ram_size, new_pyboy
from pokerl_fast.game.red import (
    StartStateError,
    cache_path,
    check_in_control,
    probe_control,
    read_hwy,
    read_wram,
    state_bytes,
)
from pokerl_fast.game.rom import RomInfo, resolve_rom
from pokerl_fast.game.testworld.savegame import SAVE_RANGES, sav_checksum, sav_offset

__all__ = ["SAVE_RANGES", "CONTINUE_PRESS_FRAMES", "CONTINUE_MAX_FRAMES", "sav_offset", "sav_checksum", "check_sav",
           "saved_place", "continue_save", "read_sav_file", "start_state_from_sav"]

CONTINUE_PRESS_FRAMES = 30
"""Frames between the script's A presses (title screen, main menu, info box) and between its checks."""
CONTINUE_MAX_FRAMES = 60 * 180
"""Three minutes of game time: Red's intro movie, the title, the main menu, the info box and the map load fit."""
HINT = "pass the .sav an emulator wrote beside this ROM after SAVE in the game's start menu"


def check_sav(sav: bytes, size: int = C.SAV_SIZE) -> str | None:
    """Why ``sav`` is not a save the game would CONTINUE (a phrase after the file's name), or None.
    ``size``: the cartridge's RAM (Red's: 32 KiB)."""
    if len(sav) != size:
        return f"is {len(sav):,} bytes, but a battery save of this cartridge is {size:,}"
    name = sav[sav_offset(C.S_PLAYER_NAME):sav_offset(C.S_PLAYER_NAME) + C.NAME_LENGTH]
    if C.CHAR_TERMINATOR not in name:
        return "holds no player name (no \"@\" in sPlayerName): the game would offer only NEW GAME"
    stored, summed = sav[sav_offset(C.S_MAIN_DATA_CHECKSUM)], sav_checksum(sav)
    if stored != summed:
        return (f"fails the game's checksum (stored 0x{stored:02X}, the data gives 0x{summed:02X}): the game would "
                "say \"The file data is destroyed!\"")
    return None


def saved_place(sav: bytes) -> tuple[int, int, int]:
    """(wCurMap, wXCoord, wYCoord) as the save holds them (sMainData mirrors wMainDataStart..wMainDataEnd)."""
    at = lambda addr: sav[sav_offset(C.S_MAIN_DATA) + addr - C.MAIN_DATA_START]  # noqa: E731
    return at(C.CUR_MAP), at(C.X_COORD), at(C.Y_COORD)


def _place(wram: bytes) -> tuple[int, int, int]:
    return tuple(wram[a - C.WRAM_BASE] for a in (C.CUR_MAP, C.X_COORD, C.Y_COORD))


def check_continued(pyboy, info: RomInfo, sav: bytes) -> str | None:
    """Why the emulator is not in free play where ``sav`` was saved, or None."""
    wram = read_wram(pyboy)
    reason = check_in_control(wram, read_hwy(pyboy, info))
    if reason:
        return reason
    if _place(wram) != saved_place(sav):
        here, there = _place(wram), saved_place(sav)
        return (f"the player is on map {here[0]} at ({here[1]},{here[2]}), but the save was made on map {there[0]} "
                f"at ({there[1]},{there[2]})")
    return probe_control(pyboy)


def continue_save(info: RomInfo, sav: bytes, name: str = "the save") -> bytes:
    """Boot the ROM with ``sav``, CONTINUE by script, check free play at the saved place; the state's bytes.
    Raises StartStateError with one line (naming the save as ``name``) when the game does not get there."""
    pyboy = new_pyboy(info.path, sav=sav)
    try:
        reason = "the game never reached free play"
        for _ in range(CONTINUE_MAX_FRAMES // CONTINUE_PRESS_FRAMES):
            wram = read_wram(pyboy)
            if check_in_control(wram, read_hwy(pyboy, info)) is None:
                reason = check_continued(pyboy, info, sav)
                if reason is None:
                    return state_bytes(pyboy)
                break
            if wram[C.UPDATE_SPRITES_ENABLED - C.WRAM_BASE] == 0xFF:  # the title, the main menu, the info box
                pyboy.button("a")
            pyboy.tick(CONTINUE_PRESS_FRAMES, render=False)
        raise StartStateError(f"--start-save: the game did not continue {name} ({reason}); it needs the ROM the "
                              "save was made with and PyBoy 2.8.1")
    finally:
        pyboy.stop(save=False)


def read_sav_file(path: str | os.PathLike, info: RomInfo) -> bytes:
    """The file's bytes once ``check_sav`` passes them for this cartridge; StartStateError (one line) if not."""
    p = pathlib.Path(path).expanduser()
    size = cartridge_ram_size(info.path)
    if not size:
        rom = f"the {info.world} (--rom {info.world})" if info.is_testworld else str(info.path)
        raise StartStateError(f"--start-save: {rom} has no battery-backed RAM, so it keeps no save; "
                              "pass a ROM with one (Pokemon Red, or --rom benchsave)")
    try:
        sav = p.read_bytes()
    except FileNotFoundError:
        raise StartStateError(f"--start-save: {p} does not exist; {HINT}") from None
    except IsADirectoryError:
        raise StartStateError(f"--start-save: {p} is a folder; {HINT}") from None
    except OSError as e:
        raise StartStateError(f"--start-save: cannot read {p} ({e.strerror or e}); {HINT}") from None
    reason = check_sav(sav, size)
    if reason:
        raise StartStateError(f"--start-save: {p} {reason}; {HINT}")
    return sav


def start_state_from_sav(path: str | os.PathLike, rom_path: str | os.PathLike | None = None,
                         cache_dir: str | os.PathLike | None = None) -> bytes:
    """The state of the game continued from the save at ``path``, made once and cached per (ROM, save)."""
    info = resolve_rom(rom_path)
    sav = read_sav_file(path, info)
    cached = cache_path(f"{info.sha1}-sav-{hashlib.sha1(sav).hexdigest()}", cache_dir)
    if cached.is_file():
        state = cached.read_bytes()
        pyboy = new_pyboy(info.path, sav=sav)
        try:
            pyboy.load_state(io.BytesIO(state))
            if check_continued(pyboy, info, sav) is None:
                return state
        except Exception:  # a damaged cache file: make it again
            pass
        finally:
            pyboy.stop(save=False)
    state = continue_save(info, sav, str(path))
    try:
        write_atomic(cached, state)
    except OSError as e:
        warnings.warn(f"could not cache the continued save at {cached} ({e}); set POKERL_CACHE_DIR to a writable "
                      "folder to skip the title screen next time", stacklevel=2)
    return state
