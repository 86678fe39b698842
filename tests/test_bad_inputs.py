"""Every bad input to ``python -m pokerl_fast.train``, through the real CLI (a subprocess per case): one line on
stderr naming the problem and the fix, exit code 2, before any emulator of the run starts, and nothing left
behind (no stub run dir, no file anywhere under the working folder). docs/bad-inputs.md lists the same cases
with their messages."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import support
from pokerl_fast.game import testworld

REPO = pathlib.Path(__file__).resolve().parents[1]


def _world() -> bytes:
    return pathlib.Path(testworld.testworld_rom_path()).read_bytes()


def _write(name: str, data: bytes | str):
    def make(d: pathlib.Path) -> pathlib.Path:
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
        return p
    return make


# (case id, command-line flags ({d} is the working folder), files to make first, POKERL_ROM, fragment of the error)
CASES = [
    ("rom missing", ["--rom", "{d}/nope.gb"], [], None, "does not exist"),
    ("rom is a folder", ["--rom", "{d}"], [], None, "is a directory, not a ROM file"),
    ("rom random bytes", ["--rom", "{d}/random.gb"], [_write("random.gb", bytes(range(256)) * 128)], None,
     "is not a Game Boy ROM"),
    ("rom truncated", ["--rom", "{d}/half.gb"], [lambda d: _write("half.gb", _world()[:0x4000])(d)], None,
     "truncated"),
    ("POKERL_ROM garbage", [], [_write("garbage.gb", b"not a rom at all\n" * 40)], "{d}/garbage.gb",
     "(from POKERL_ROM) is not a Game Boy ROM"),
    ("POKERL_ROM Blue", [], [lambda d: _write("blue.gb", support.other_game(_world(), b"POKEMON BLUE"))(d)],
     "{d}/blue.gb", "is not Pokemon Red (title 'POKEMON BLUE'"),
    ("POKERL_ROM a hack of Red", [],
     [lambda d: _write("hack.gb", support.other_game(_world(), b"POKEMON RED", patch=0x200))(d)],
     "{d}/hack.gb", "is not Pokemon Red (title 'POKEMON RED'"),
    ("--num-envs abc", ["--num-envs", "abc"], [], None, "--num-envs: expected an integer, got 'abc'"),
    ("--num-envs 0", ["--num-envs", "0"], [], None, "num_envs must be >= 1"),
    ("--total-steps -5", ["--total-steps", "-5"], [], None, "total_steps must be >= 1"),
    ("--frames-per-step 0", ["--frames-per-step", "0"], [], None, "frames_per_step must be >= 1"),
    ("--device tpu", ["--device", "tpu"], [], None, "invalid choice 'tpu' for argument '--device'"),
    ("unknown flag", ["--bogus", "1"], [], None, "Unrecognized options: --bogus, 1"),
    ("yaml unknown key", ["--config", "{d}/c.yaml"], [_write("c.yaml", "ppo:\n  gama: 0.9\n")], None,
     "unknown field 'gama'"),
    ("yaml wrong type", ["--config", "{d}/c.yaml"], [_write("c.yaml", "num_envs: lots\n")], None,
     "num_envs: expected an integer, got 'lots'"),
    ("yaml broken", ["--config", "{d}/c.yaml"], [_write("c.yaml", "ppo: [1, 2\n")], None, "is not valid YAML"),
    ("yaml a list", ["--config", "{d}/c.yaml"], [_write("c.yaml", "- 1\n- 2\n")], None, "must hold a mapping"),
    ("yaml missing", ["--config", "{d}/none.yaml"], [], None, "does not exist"),
    ("run dir under a file", ["--run-dir", "{d}/afile/run"], [_write("afile", "x")], None,
     "is a file, not a folder"),
    ("run dir is a file", ["--run-dir", "{d}/afile"], [_write("afile", "x")], None, "is a file, not a folder"),
    ("run dir unwritable", ["--run-dir", "/proc/pokerl-run"], [], None, "cannot write run dir /proc/pokerl-run"),
    ("run dir holds a run", ["--run-dir", "{d}/old"], [_write("old/checkpoints/ckpt-000000000064/x", "")], None,
     "already holds a run's checkpoints; continue it with --resume"),
    ("resume no such dir", ["--resume", "{d}/nothing"], [], None, "no such run dir"),
    ("resume without checkpoint", ["--resume", "{d}/old"], [_write("old/config.yaml", "")], None,
     "no valid checkpoint"),
    ("start state random", ["--start-state", "{d}/s.state"],
     [_write("s.state", np.random.default_rng(0).integers(0, 256, 150_000, dtype=np.uint8).tobytes())], None,
     "is not a save state PyBoy can load"),
    ("start state truncated", ["--start-state", "{d}/s.state"], [lambda d: _write("s.state", _own_state()[:5000])(d)],
     None, "start state"),
    ("start state of another ROM", ["--start-state", "{d}/s.state"],
     [lambda d: _write("s.state", support.benchworld_state_in_pallet())(d)], None, "no place in the testworld"),
    ("too big for memory", ["--num-envs", "100000"], [], None, "of memory (emulators"),
    ("start save missing", ["--rom", "benchsave", "--start-save", "{d}/none.sav"], [], None,
     "--start-save: {d}/none.sav does not exist"),
    ("start save wrong size", ["--rom", "benchsave", "--start-save", "{d}/s.sav"], [_write("s.sav", b"x" * 1000)],
     None, "is 1,000 bytes, but a battery save of this cartridge is 32,768"),
    ("start save blank", ["--rom", "benchsave", "--start-save", "{d}/s.sav"], [_write("s.sav", bytes(0x8000))], None,
     "holds no player name"),
    ("start save destroyed", ["--rom", "benchsave", "--start-save", "{d}/s.sav"],
     [lambda d: _write("s.sav", _sav(good_sum=False))(d)], None, "fails the game's checksum"),
    ("start save of no place here", ["--rom", "benchsave", "--start-save", "{d}/s.sav"],
     [lambda d: _write("s.sav", _sav())(d)], None, "the game did not continue {d}/s.sav (the player is on map 38"),
    ("start save on a cartridge without RAM", ["--start-save", "{d}/s.sav"], [lambda d: _write("s.sav", _sav())(d)],
     None, "has no battery-backed RAM"),
    ("start save and start state", ["--rom", "benchsave", "--start-save", "{d}/s.sav", "--start-state", "{d}/x"],
     [lambda d: _write("s.sav", _sav())(d)], None, "start_state and start_save both name a start"),
]


def _sav(good_sum: bool = True) -> bytes:
    """32 KiB of cartridge RAM with the player's name "RED@" and Red's checksum (right, or one off)."""
    from pokerl_fast.game import constants as C
    from pokerl_fast.game.sav import sav_checksum, sav_offset

    sav = bytearray(C.SAV_SIZE)
    sav[sav_offset(C.S_PLAYER_NAME):sav_offset(C.S_PLAYER_NAME) + 4] = b"\x91\x84\x83\x50"
    sav[sav_offset(C.S_MAIN_DATA_CHECKSUM)] = sav_checksum(sav) ^ (0 if good_sum else 1)
    return bytes(sav)


def _own_state() -> bytes:
    from pokerl_fast.game.red import start_state

    return start_state(testworld.testworld_rom_path())


def _tree(d: pathlib.Path) -> set[str]:
    return {str(p.relative_to(d)) for p in d.rglob("*")}


@pytest.mark.parametrize("flags, makers, rom_env, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(tmp_path, flags, makers, rom_env, fragment):
    for make in makers:
        make(tmp_path)
    before = _tree(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "POKERL_ROM"}
    if rom_env:
        env["POKERL_ROM"] = rom_env.format(d=tmp_path)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    args = [a.format(d=tmp_path) for a in flags]
    proc = subprocess.run([sys.executable, "-m", "pokerl_fast.train", "--total-steps", "64", *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert fragment.format(d=tmp_path) in lines[0]
    assert proc.stdout == ""  # nothing ran: a run prints its mechanisms first
    assert _tree(tmp_path) == before  # no stub run dir (runs/...), nothing else
