"""Check the ROM the user passes before any emulator starts.

Every problem is one `RomError` whose message says what is wrong and what to do, so a
wrong path or a wrong game fails in a second instead of deep inside PyBoy or training.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib

__all__ = ["RED_SHA1", "RomError", "RomInfo", "resolve_rom", "sha1_of", "header_checksum"]

# Pokemon Red (UE), the ROM the mission targets.
RED_SHA1 = "ea9bcae617fdf159b045185467ae58b2e4a48b9a"
ROM_ENV = "POKERL_ROM"
HINT = f"pass the Pokemon Red (UE) ROM with --rom or {ROM_ENV}"

HEADER_END = 0x150  # the cartridge header ends at 0x14F
TITLE = slice(0x134, 0x144)
CART_TYPE = 0x147
ROM_SIZE = 0x148
RAM_SIZE = 0x149
HEADER_CHECKSUM = 0x14D
MAX_ROM_BYTES = 8 << 20  # the largest size a header can declare

# Cartridge type byte values that exist (Pan Docs).
CART_TYPES = frozenset({
    0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0F, 0x10, 0x11,
    0x12, 0x13, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x20, 0x22, 0xFC, 0xFD, 0xFE, 0xFF,
})
# ROM size code -> bytes. 0x00-0x08 are 32 KiB << code; 0x52-0x54 are rare odd sizes.
ROM_SIZES = {code: 0x8000 << code for code in range(9)} | {0x52: 72 * 0x4000, 0x53: 80 * 0x4000, 0x54: 96 * 0x4000}


class RomError(ValueError):
    """The ROM is missing, damaged, or not the game we need. The message says how to fix it."""


@dataclasses.dataclass(frozen=True)
class RomInfo:
    path: pathlib.Path
    sha1: str
    title: str
    is_testworld: bool  # one of the project's own worlds (no intro: control at boot)
    is_red: bool
    world: str = ""  # the bundled world's name ("testworld", "benchworld"); "" for Red


def sha1_of(path: str | os.PathLike) -> str:
    """Hex SHA-1 of a file's bytes."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def header_checksum(data: bytes) -> int:
    """The header checksum the boot ROM expects at 0x14D: x = x - byte - 1 over 0x134..0x14C."""
    x = 0
    for b in data[0x134:HEADER_CHECKSUM]:
        x = (x - b - 1) & 0xFF
    return x


def _title(data: bytes) -> str:
    raw = data[TITLE]
    # Later carts reuse the title's tail for a manufacturer code and the CGB flag.
    if raw[-1] in (0x80, 0xC0):
        raw = raw[:-1]
    return raw.split(b"\0", 1)[0].decode("ascii", "replace").rstrip()


def _header_problem(data: bytes) -> str | None:
    """Why these bytes cannot be a Game Boy cartridge header, or None when the fields make sense."""
    title = data[TITLE]
    if title[-1] in (0x80, 0xC0):
        title = title[:-1]
    text = title.split(b"\0", 1)
    if any(b < 0x20 or b > 0x7E for b in text[0]) or (len(text) == 2 and any(text[1])):
        return "its title field (0x134-0x143) is not ASCII text padded with zeros"
    if data[CART_TYPE] not in CART_TYPES:
        return f"its cartridge type byte 0x{data[CART_TYPE]:02X} (0x147) is not a known type"
    if data[ROM_SIZE] not in ROM_SIZES:
        return f"its ROM size code 0x{data[ROM_SIZE]:02X} (0x148) is not a known size"
    if data[RAM_SIZE] > 0x05:
        return f"its RAM size code 0x{data[RAM_SIZE]:02X} (0x149) is not a known size"
    return None


def resolve_rom(rom: str | os.PathLike | None = None) -> RomInfo:
    """Find and check the ROM to run.

    None means the POKERL_ROM environment variable when it is set, else the bundled test world; the names
    ``testworld`` and ``benchworld`` pick a bundled world. Raises RomError, with one line saying what is wrong and what to do, for a missing path, a
    directory, an unreadable file, a truncated or damaged cartridge, or another game.
    """
    from pokerl_fast.game.testworld import WORLDS, world_rom_path

    if rom is None and os.environ.get(ROM_ENV):
        rom, source = os.environ[ROM_ENV], f" (from {ROM_ENV})"
    elif rom is None:
        rom, source = world_rom_path("testworld"), " (the bundled test world)"
    elif os.fspath(rom) in WORLDS and not pathlib.Path(rom).exists():
        rom, source = world_rom_path(os.fspath(rom)), f" (the bundled {WORLDS[os.fspath(rom)].name})"
    else:
        source = ""
    path = pathlib.Path(rom).expanduser()
    where = f"{path}{source}"

    if not path.exists():
        raise RomError(f"ROM file {where} does not exist; {HINT}")
    if path.is_dir():
        raise RomError(f"ROM path {where} is a directory, not a ROM file; {HINT}")
    if not path.is_file():
        raise RomError(f"ROM path {where} is not a regular file; {HINT}")
    size = path.stat().st_size
    if size > MAX_ROM_BYTES:
        raise RomError(f"{where} is {size} bytes, larger than any Game Boy ROM; {HINT}")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RomError(f"cannot read ROM {where} ({e.strerror or e}); check its permissions or {HINT}") from None

    if len(data) < HEADER_END:
        raise RomError(f"{where} is only {len(data)} bytes, too short for a Game Boy ROM (truncated?); {HINT}")
    problem = _header_problem(data)
    if problem:
        raise RomError(f"{where} is not a Game Boy ROM: {problem}; {HINT}")
    want = ROM_SIZES[data[ROM_SIZE]]
    if len(data) != want:
        raise RomError(f"{where} is {len(data)} bytes but its header says {want} (truncated or damaged copy); {HINT}")
    if data[HEADER_CHECKSUM] != header_checksum(data):
        raise RomError(
            f"{where} has a bad header checksum (0x{data[HEADER_CHECKSUM]:02X} at 0x14D, expected "
            f"0x{header_checksum(data):02X}): the file is damaged; {HINT}")

    sha1 = hashlib.sha1(data).hexdigest()
    is_red = sha1 == RED_SHA1
    world = "" if is_red else next((name for name in WORLDS if sha1 == sha1_of(world_rom_path(name))), "")
    if not (is_red or world):
        raise RomError(f"{where} is not Pokemon Red (title {_title(data)!r}, SHA-1 {sha1}); {HINT}")
    return RomInfo(path=path.resolve(), sha1=sha1, title=_title(data), is_testworld=bool(world), is_red=is_red,
                   world=world)
