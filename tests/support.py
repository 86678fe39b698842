"""Helpers shared by the test folders (import them with ``import support``; fixtures live in conftest.py)."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest

from pokerl_fast.game import constants as C
from pokerl_fast.game import testworld
from pokerl_fast.game.emulator import new_pyboy
from pokerl_fast.game.rom import header_checksum

RED_ROM = os.environ.get("POKERL_ROM")


def save_state(pb) -> bytes:
    """A PyBoy's whole state as bytes (PyBoy's own format)."""
    f = io.BytesIO()
    pb.save_state(f)
    return f.getvalue()


def testworld_pyboy(state: bytes | None = None):
    """A PyBoy on the test world ROM: booted to ready, or loaded from ``state``. The caller stops it."""
    pb = new_pyboy(testworld.testworld_rom_path())
    if state is None:
        testworld.boot(pb)
    else:
        pb.load_state(io.BytesIO(state))
    return pb


def other_game(rom: bytes, title: bytes, patch: int | None = None) -> bytes:
    """``rom`` retitled (and with the byte at ``patch`` flipped, as a ROM hack changes code): a valid cartridge
    header, another SHA-1 -- what Pokemon Blue or a hack of Red looks like to the ROM check."""
    out = bytearray(rom)
    out[0x134:0x144] = title.ljust(16, b"\0")
    if patch is not None:
        out[patch] ^= 0xFF
    out[0x14D] = header_checksum(out)
    return bytes(out)


def benchworld_state_in_pallet() -> bytes:
    """A benchmark-world state out of the house, in the south of its Pallet Town: no place of the test world."""
    from pokerl_fast.game.red import start_state

    path = testworld.benchworld_rom_path()
    pb = new_pyboy(path)
    try:
        pb.load_state(io.BytesIO(start_state(path)))
        testworld.go_to(pb, "PALLET_S", (4, 4), world=testworld.BENCH)
        return save_state(pb)
    finally:
        pb.stop(save=False)


def red_rom() -> str:
    """$POKERL_ROM when it is Pokemon Red (UE); otherwise the calling test is skipped."""
    from pokerl_fast.game.rom import resolve_rom

    if not RED_ROM:
        pytest.skip("POKERL_ROM is not set: point it at the Pokemon Red (UE) ROM to run the real-game tests")
    if not resolve_rom(RED_ROM).is_red:
        pytest.skip(f"POKERL_ROM={RED_ROM} is not Pokemon Red (UE)")
    return RED_ROM


def set_event_flag(wram, name: str) -> None:
    """Set Red's event flag ``name`` in a WRAM view (WRAM_BASE at index 0), as the game's SetEvent does."""
    addr, bit = C.EVENT_FLAGS_BY_NAME[name]
    np.asarray(wram)[addr - C.WRAM_BASE] |= 1 << bit


def decode_video(path) -> tuple[str, "np.ndarray"]:
    """(codec name, (frames, height, width, 3) RGB frames) of a video file, decoded by the ffmpeg the package uses."""
    import re
    import subprocess

    import numpy as np

    from pokerl_fast.watch.video import encoder_available

    done = subprocess.run([encoder_available(), "-v", "info", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24",
                           "-"], capture_output=True, check=True)
    found = re.search(r"Video: (\w+).*?, (\d+)x(\d+)", done.stderr.decode(errors="replace"))
    codec, width, height = found.group(1), int(found.group(2)), int(found.group(3))
    return codec, np.frombuffer(done.stdout, np.uint8).reshape(-1, height, width, 3)
