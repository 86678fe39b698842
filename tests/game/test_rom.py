"""ROM checks fail early with one clear line: missing, directory, unreadable, truncated, not a
Game Boy ROM, damaged header, another game. Bad files are made from the test world ROM in tmp_path."""

import os
import pathlib

import pytest

import support

from pokerl_fast.game.rom import RED_SHA1, RomError, header_checksum, resolve_rom, sha1_of
from pokerl_fast.game import testworld

HINT = "pass the Pokemon Red (UE) ROM with --rom or POKERL_ROM"


@pytest.fixture
def world() -> bytes:
    return pathlib.Path(testworld.testworld_rom_path()).read_bytes()


def _write(tmp_path, name, data: bytes) -> pathlib.Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _expect(path, *fragments):
    with pytest.raises(RomError) as e:
        resolve_rom(path)
    msg = str(e.value)
    assert "\n" not in msg
    assert HINT in msg or "permissions" in msg
    for f in fragments:
        assert f in msg, msg
    return msg


def test_test_world_is_accepted(world):
    info = resolve_rom(testworld.testworld_rom_path())
    assert info.is_testworld and not info.is_red
    assert info.sha1 == sha1_of(testworld.testworld_rom_path()) != RED_SHA1
    assert info.path.is_absolute() and info.title
    assert world[0x14D] == header_checksum(world)


def test_default_is_env_var_then_test_world(tmp_path, monkeypatch, world):
    monkeypatch.delenv("POKERL_ROM", raising=False)
    assert resolve_rom(None).is_testworld
    monkeypatch.setenv("POKERL_ROM", str(tmp_path / "nope.gb"))
    _expect(None, "does not exist", "from POKERL_ROM")
    monkeypatch.setenv("POKERL_ROM", str(_write(tmp_path, "w.gb", world)))
    assert resolve_rom(None).path == (tmp_path / "w.gb").resolve()


def test_missing_and_directory(tmp_path):
    _expect(tmp_path / "missing.gb", "does not exist", "missing.gb")
    _expect(tmp_path, "is a directory")


def test_unreadable(tmp_path, world):
    if os.geteuid() == 0:
        # root reads any file; /proc/self/mem is a regular file whose read at offset 0 fails with EIO.
        path = pathlib.Path("/proc/self/mem")
    else:
        path = _write(tmp_path, "locked.gb", world)
        path.chmod(0)
    _expect(path, "cannot read ROM")


def test_truncated(tmp_path, world):
    _expect(_write(tmp_path, "tiny.gb", world[:0x100]), "too short", "truncated")
    _expect(_write(tmp_path, "empty.gb", b""), "only 0 bytes")
    cut = len(world) - 0x1000
    _expect(_write(tmp_path, "cut.gb", world[:cut]), f"is {cut} bytes but its header says {len(world)}")
    _expect(_write(tmp_path, "long.gb", world + bytes(0x4000)), "its header says")


def test_not_a_game_boy_rom(tmp_path):
    _expect(_write(tmp_path, "notes.txt", b"hello\n"), "too short")
    text = ("Pokemon Red is a role-playing game. " * 400).encode()
    _expect(_write(tmp_path, "essay.gb", text), "not a Game Boy ROM")
    _expect(_write(tmp_path, "zeros.gb", bytes(0x8000)), "bad header checksum")


def test_bad_header_checksum(tmp_path, world):
    bad = bytearray(world)
    bad[0x14D] ^= 0xFF
    _expect(_write(tmp_path, "flipped.gb", bytes(bad)), "bad header checksum", "damaged")


def test_another_game(tmp_path, world):
    other = _write(tmp_path, "tetris.gb", support.other_game(world, b"TETRIS"))
    msg = _expect(other, "is not Pokemon Red", "'TETRIS'", sha1_of(other))
    assert msg.endswith(HINT)
    # Even a ROM titled like Red is refused when its bytes are not Red's.
    _expect(_write(tmp_path, "fake.gb", support.other_game(world, b"POKEMON RED")), "is not Pokemon Red")


def test_header_field_nonsense(tmp_path, world):
    for offset, value, words in ((0x147, 0x77, "cartridge type"), (0x148, 0x30, "ROM size code"),
                                 (0x149, 0x09, "RAM size code"), (0x134, 0x01, "title")):
        rom = bytearray(world)
        rom[offset] = value
        rom[0x14D] = header_checksum(rom)
        _expect(_write(tmp_path, f"bad{offset:x}.gb", bytes(rom)), "not a Game Boy ROM", words)


def test_sha1_of(tmp_path):
    p = _write(tmp_path, "abc", b"abc")
    assert sha1_of(p) == "a9993e364706816aba3e25717850c26c9cd0d89d"
