"""States written by older PyBoy releases start a run: the test world's own states, written by PyBoy 1.6.14 (state
version 9), 2.0.3 (10) and 2.4.1 (12) with scripts/old_pyboy_states.py, load in PyBoy 2.8.1 after the one-byte
correction with memory and screen as the writing release showed them 60 frames later; 2.5.4 (14) and 2.7.0 (15)
are refused in one line; a damaged old state is still refused."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import pathlib

import numpy as np
import pytest

from pokerl_fast.config import EnvConfig
from pokerl_fast.env import VecEnv
from pokerl_fast.game import constants as C
from pokerl_fast.game.emulator import new_pyboy
from pokerl_fast.game.red import StartStateError
from pokerl_fast.game.rom import resolve_rom
from pokerl_fast.game.savestate import check_state, read_state_file, state_version, upgrade_state

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "data" / "old_states"
READABLE = ("1.6.14", "2.0.3", "2.4.1")
REFUSED = ("2.5.4", "2.7.0")


def fixture(release: str) -> tuple[bytes, dict]:
    state = gzip.decompress((FIXTURES / f"pyboy-{release}.state.gz").read_bytes())
    return state, json.loads((FIXTURES / f"pyboy-{release}.json").read_text())


@pytest.fixture(scope="module")
def testworld():
    info = resolve_rom("testworld")
    _, meta = fixture(READABLE[0])
    assert info.sha1 == meta["rom_sha1"], "the test world ROM changed: run scripts/old_pyboy_states.py again"
    return info


def ram(pb) -> bytes:
    return bytes(pb.memory[C.WRAM_BASE:C.WRAM_BASE + C.WRAM_SIZE]) + bytes(pb.memory[C.HRAM_BASE:C.HRAM_BASE + C.HRAM_SIZE])


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.mark.parametrize("release", READABLE)
def test_an_older_release_state_loads_as_that_release_showed_it(testworld, release):
    state, meta = fixture(release)
    assert state_version(state) == meta["state_version"] < 13
    pb = new_pyboy(testworld.path)
    try:
        with pytest.raises(Exception):  # as PyBoy 2.8.1 alone reads it: one byte short at the LCD
            pb.load_state(io.BytesIO(state))
    finally:
        pb.stop(save=False)
    fixed, note = upgrade_state(state)
    assert len(fixed) == len(state) + 1 and f"version {meta['state_version']}" in note
    pb = new_pyboy(testworld.path)
    try:
        source = io.BytesIO(fixed)
        pb.load_state(source)
        assert source.tell() == len(fixed), "the loader read every byte"
        assert sha(ram(pb)) == meta["ram_at_save"]
        pb.tick(60, True)
        assert sha(ram(pb)) == meta["ram_after_60"]
        assert sha(pb.screen.ndarray[:, :, :3].tobytes()) == meta["screen_after_60"]
    finally:
        pb.stop(save=False)


def test_todays_states_are_left_as_they_are(testworld):
    from pokerl_fast.game.red import start_state

    state = start_state(testworld.path)
    assert upgrade_state(state) == (state, None)


def test_an_older_release_state_starts_a_run_and_says_so(testworld, tmp_path):
    state, meta = fixture("2.4.1")
    path = tmp_path / "old.state"
    path.write_bytes(state)
    said = []
    fixed = read_state_file(path, testworld, say=said.append)
    assert len(said) == 1 and str(path) in said[0] and "version 12" in said[0]
    env = VecEnv(2, EnvConfig(rom="testworld", start_state=str(path), reset_noop_max=0), start_state=fixed)
    try:
        env.reset(seed=0)
        pb = new_pyboy(testworld.path)
        try:
            pb.load_state(io.BytesIO(fixed))
            want = (pb.memory[C.CUR_MAP], pb.memory[C.X_COORD], pb.memory[C.Y_COORD])
        finally:
            pb.stop(save=False)
        info = env._info_arrays
        assert [(int(info["map"][i]), int(info["x"][i]), int(info["y"][i])) for i in range(2)] == [want] * 2
        for _ in range(20):
            env.step(np.zeros(2, np.int64))
    finally:
        env.close()


@pytest.mark.parametrize("release", REFUSED)
def test_states_of_pyboy_2_5_to_2_7_are_refused_in_one_line(testworld, release, tmp_path):
    state, meta = fixture(release)
    problem = check_state(testworld, state)
    assert f"version {meta['state_version']}" in problem and "2.5-2.7" in problem
    path = tmp_path / "new.state"
    path.write_bytes(state)
    with pytest.raises(StartStateError) as e:
        read_state_file(path, testworld)
    assert "\n" not in str(e.value) and str(path) in str(e.value)


def test_a_damaged_older_state_is_still_refused(testworld):
    state, _ = fixture("2.0.3")
    assert check_state(testworld, state) is None
    assert "not a save state" in check_state(testworld, state[:-200])
    assert "after the end" in check_state(testworld, state + b"\0" * 16)
