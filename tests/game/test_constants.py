"""The generated constants are current with ../shared/data and hold the facts the code relies on."""

import pathlib
import re
import subprocess
import sys

import pytest

from pokerl_fast.game import constants as C

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"


@pytest.mark.skipif(not DATA.is_dir(), reason=f"reference data {DATA} is absent; the generator cannot be rerun here")
def test_generated_files_are_up_to_date():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_constants.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_known_addresses():
    assert C.CUR_MAP == 0xD35E
    assert C.JOY_IGNORE == 0xCD6B
    assert C.PLAYER_FACING == 0xC109
    assert C.EVENT_FLAGS == 0xD747
    assert C.WRAM["wCurMap"] == C.CUR_MAP
    for name in ("CUR_MAP", "X_COORD", "Y_COORD", "JOY_IGNORE", "OBTAINED_BADGES", "PARTY_COUNT"):
        assert C.WRAM_BASE <= getattr(C, name) < C.WRAM_BASE + C.WRAM_SIZE, name


def test_maps_and_events():
    assert len(C.MAPS) > 200
    assert C.MAP_IDS["REDS_HOUSE_2F"] == 38
    assert len(set(m[0] for m in C.MAPS)) == len(C.MAPS), "duplicate map ids"
    assert C.REQUIRED_EVENTS, "no required events"
    missing = [name for name in C.REQUIRED_EVENTS if name not in C.EVENT_FLAGS_BY_NAME]
    assert missing == []
    end = C.EVENT_FLAGS + C.EVENT_FLAGS_BYTES
    for name, (addr, bit) in C.EVENT_FLAGS_BY_NAME.items():
        assert C.EVENT_FLAGS <= addr < end and 0 <= bit < 8, name


def test_every_map_rect_inside_kanto():
    outside = [m[1] for m in C.MAPS
               if not (0 <= m[2] and 0 <= m[3] and m[2] + m[4] <= C.KANTO_WIDTH and m[3] + m[5] <= C.KANTO_HEIGHT)]
    assert outside == []
    assert all(m[4] > 0 and m[5] > 0 for m in C.MAPS)


def test_header_matches_python():
    text = (ROOT / "csrc" / "red_constants.h").read_text()
    assert f"constexpr uint16_t CUR_MAP = 0x{C.CUR_MAP:04X};" in text
    assert f"constexpr int NUM_REQUIRED_EVENTS = {len(C.REQUIRED_EVENTS)};" in text
    assert f"constexpr int KANTO_WIDTH = {C.KANTO_WIDTH};" in text


def test_memory_map_and_observation_sizes():
    """Pinned against the Game Boy's documentation (Pan Docs); the observation is the screen at half size."""
    assert (C.WRAM_BASE, C.WRAM_SIZE, C.HRAM_BASE, C.HRAM_SIZE) == (0xC000, 0x2000, 0xFF80, 0x7F)
    assert (C.VRAM_BASE, C.VRAM_SIZE, C.OAM_BASE, C.OAM_SIZE) == (0x8000, 0x2000, 0xFE00, 0xA0)
    assert (C.SCREEN_H, C.SCREEN_W, C.SCREEN_CHANNELS) == (144, 160, 4)
    assert (C.OBS_H, C.OBS_W, C.OBS_PACKED_W) == (C.SCREEN_H // 2, C.SCREEN_W // 2, C.SCREEN_W // 2 // 4)
    assert C.NUM_REQUIRED_EVENTS == len(C.REQUIRED_EVENTS)
    assert C.EVENT_FLAGS_BY_NAME["EVENT_GOT_POKEDEX"] == (C.EVENT_GOT_POKEDEX_ADDR, C.EVENT_GOT_POKEDEX_BIT)


def test_header_and_python_hold_the_same_scalars():
    """Every scalar fact has one name and one value in both outputs (the generator writes them from one list)."""
    text = (ROOT / "csrc" / "red_constants.h").read_text()
    header = {name: int(value, 0) for name, value in re.findall(r"constexpr \w+ (\w+) = (0x[0-9A-F]+|\d+);", text)}
    python = {name: value for name, value in vars(C).items() if name.isupper() and type(value) is int}
    assert header == python
    for name in ("WRAM_SIZE", "HRAM_SIZE", "VRAM_SIZE", "OAM_SIZE", "OBS_H", "OBS_PACKED_W"):  # the bridge's names
        assert f"constexpr int {name} = " in text, name
