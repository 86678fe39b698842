"""Helpers shared by the test folders (import them with ``import support``; fixtures live in conftest.py)."""

from __future__ import annotations

import io
import os

import pytest

from pokerl_fast.game import testworld
from pokerl_fast.game.emulator import new_pyboy

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


def red_rom() -> str:
    """$POKERL_ROM when it is Pokemon Red (UE); otherwise the calling test is skipped."""
    from pokerl_fast.game.rom import resolve_rom

    if not RED_ROM:
        pytest.skip("POKERL_ROM is not set: point it at the Pokemon Red (UE) ROM to run the real-game tests")
    if not resolve_rom(RED_ROM).is_red:
        pytest.skip(f"POKERL_ROM={RED_ROM} is not Pokemon Red (UE)")
    return RED_ROM
