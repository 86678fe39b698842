"""The start state: RAM checks on synthetic WRAM and on the test world; the cache; the real game
(when POKERL_ROM points at Pokemon Red)."""

import io
import os
import pathlib

import pytest

from support import red_rom, save_state

from pokerl_fast.game import red
from pokerl_fast.game.constants import (
    CUR_MAP, FONT_LOADED, H_WY, IS_IN_BATTLE, JOY_IGNORE, PLAYER_FACING, STATUS_FLAGS5, UPDATE_SPRITES_ENABLED,
    X_COORD, Y_COORD,
)
from pokerl_fast.game.emulator import new_pyboy
from pokerl_fast.game.red import (
    REDS_HOUSE_2F,
    WRAM_SIZE,
    WRAM_START,
    cache_path,
    check_in_control,
    check_probe,
    check_start_position,
    check_start_state,
    start_state,
)


def wram(**fields) -> bytearray:
    """A synthetic WRAM (0xC000-0xDFFF): the player in control at the start unless fields say otherwise."""
    w = bytearray(WRAM_SIZE)
    values = {CUR_MAP: REDS_HOUSE_2F, X_COORD: 3, Y_COORD: 6, JOY_IGNORE: 0, PLAYER_FACING: 0}
    names = {"map": CUR_MAP, "x": X_COORD, "y": Y_COORD, "joy_ignore": JOY_IGNORE, "facing": PLAYER_FACING,
             "battle": IS_IN_BATTLE}
    values.update({names[k]: v for k, v in fields.items()})
    for addr, v in values.items():
        w[addr - WRAM_START] = v
    return w


def test_start_state_checks_on_synthetic_wram():
    assert check_start_state(bytes(wram())) is None
    assert "wCurMap is 0, expected 38" in check_start_state(wram(map=0))
    assert "(4, 6)" in check_start_position(wram(x=4))
    assert "(3, 5)" in check_start_position(wram(y=5))
    # Oak still talking: right map and place, input blocked.
    assert check_start_position(wram(joy_ignore=0xFF)) is None
    assert "wJoyIgnore is 0xFF" in check_in_control(wram(joy_ignore=0xFF))
    assert "wJoyIgnore is 0x20" in check_start_state(wram(joy_ignore=0x20))
    assert "battle" in check_in_control(wram(battle=1))
    assert check_start_position(wram(map=12, x=9, y=1), map_id=12, xy=(9, 1)) is None


def test_free_play_checks_on_synthetic_wram():
    """What Red changes once the overworld waits for input (red.check_in_control), one byte at a time."""
    free = wram()
    free[UPDATE_SPRITES_ENABLED - WRAM_START] = 1
    assert check_in_control(free, hwy=0x90) is None
    assert check_in_control(free) is None  # a world without hWY: not read
    for addr, value, words in ((FONT_LOADED, 0x01, "wFontLoaded"), (STATUS_FLAGS5, 0x20, "disabled"),
                               (STATUS_FLAGS5, 0x80, "script moves"), (UPDATE_SPRITES_ENABLED, 0xFF, "title")):
        w = bytearray(free)
        w[addr - WRAM_START] = value
        assert words in check_in_control(w, hwy=0x90)
    assert check_in_control(free, hwy=0x90) is None
    w = bytearray(free)
    w[STATUS_FLAGS5 - WRAM_START] = 0x40  # bit 6 (text drawn without delay) is no gate
    assert check_in_control(w, hwy=0x90) is None
    assert "hWY is 0x00" in check_in_control(free, hwy=0)  # Oak's speech, a text box, the start menu
    w = bytearray(free)
    w[UPDATE_SPRITES_ENABLED - WRAM_START] = 0xFF  # the intro before its end: sprites not yet on a map
    assert "wUpdateSpritesEnabled is 0xFF" in check_start_state(w, hwy=0x90)
    assert check_start_state(w) is None  # the test world's check reads neither byte


def test_probe_check_on_synthetic_wram():
    assert check_probe(wram(), wram(facing=8)) is None  # turned left
    assert check_probe(wram(), wram(x=2)) is None  # stepped left
    assert check_probe(wram(), wram(y=7)) is None
    reason = check_probe(wram(), wram(joy_ignore=1))
    assert reason and "neither position nor facing" in reason


def test_wrong_wram_size_is_refused():
    with pytest.raises(ValueError, match=f"expected {WRAM_SIZE}"):
        check_in_control(bytes(100))


def test_cache_path(tmp_path, monkeypatch):
    sha = "ab" * 20
    assert cache_path(sha, tmp_path) == tmp_path / f"{sha}-sound0.state"
    monkeypatch.setenv("POKERL_CACHE_DIR", str(tmp_path / "c"))
    assert cache_path(sha) == tmp_path / "c" / "states" / f"{sha}-sound0.state"
    monkeypatch.delenv("POKERL_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_path(sha) == tmp_path / "home" / ".cache" / "pokerl_fast" / "states" / f"{sha}-sound0.state"


def test_intro_script_matches_measured_facts():
    presses = [b for b, _ in red.INTRO if b]
    assert red.INTRO[0] == (None, 1500)
    assert presses.count("down") == 2 and presses.count("start") == 1
    assert presses.count("a") == 1 + 28 + 1 + 12 + 1 + 17
    assert sum(f for _, f in red.INTRO) + len(presses) == 1500 + (1 + 120) * 2 + (1 + 60) * 59 + (1 + 20) * 2


# --- on the test world (same addresses as Red, its own start spot) -----------------------------


def test_checks_follow_the_test_world(testworld_rom):
    from pokerl_fast.game import testworld as T

    spot = (T.START_MAP, T.START_XY)
    pb = new_pyboy(testworld_rom)
    try:
        pb.tick(10, render=False)  # before the world is ready: nothing is set up, input goes nowhere
        assert "wCurMap is 0" in check_start_state(red.read_wram(pb), *spot)
        assert "neither position nor facing" in red.probe_control(pb)
        T.wait_ready(pb)
        assert check_start_state(red.read_wram(pb), *spot) is None
        before = save_state(pb)
        assert red.probe_control(pb) is None
        assert save_state(pb) == before, "the probe must put the emulator back exactly"
        pb.button("left", 8)
        pb.tick(4, render=False)  # mid-step: the game ignores input
        w = red.read_wram(pb)
        assert check_start_position(w, *spot) is None
        assert "wJoyIgnore is 0xFF" in check_in_control(w)
        pb.tick(30, render=False)
        w = red.read_wram(pb)
        assert check_in_control(w) is None
        assert f"(x, y) = ({T.START_XY[0] - 1}, {T.START_XY[1]})" in check_start_position(w, *spot)
    finally:
        pb.stop(save=False)


def test_start_state_is_made_cached_and_reused(testworld_rom, tmp_path):
    from pokerl_fast.game import testworld as T
    from pokerl_fast.game.rom import sha1_of

    state = start_state(testworld_rom, cache_dir=tmp_path)
    path = cache_path(sha1_of(testworld_rom), tmp_path)
    assert path.read_bytes() == state
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "temporary files left behind"
    pb = new_pyboy(testworld_rom)
    try:
        pb.load_state(io.BytesIO(state))
        assert check_start_state(red.read_wram(pb), T.START_MAP, T.START_XY) is None
        assert red.probe_control(pb) is None
    finally:
        pb.stop(save=False)
    # A good cached file is used as is, not rewritten.
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    assert start_state(testworld_rom, cache_dir=tmp_path) == state
    assert path.stat().st_mtime_ns == 1_000_000_000


def _moved_state(rom) -> bytes:
    pb = new_pyboy(rom)
    try:
        from pokerl_fast.game import testworld as T

        T.wait_ready(pb)
        T.press(pb, "left")
        return save_state(pb)
    finally:
        pb.stop(save=False)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong_spot", "flipped_ram"])
def test_damaged_cache_is_made_again(testworld_rom, tmp_path, damage):
    from pokerl_fast.game.rom import sha1_of

    good = start_state(testworld_rom, cache_dir=tmp_path)
    path = cache_path(sha1_of(testworld_rom), tmp_path)
    bad = {
        "garbage": b"not a state" * 100,
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "wrong_spot": _moved_state(testworld_rom),  # a valid state, but not the start
        "flipped_ram": None,
    }[damage]
    if bad is None:  # a state that loads but whose WRAM says another map
        from pokerl_fast.game.rom import resolve_rom

        pb = new_pyboy(testworld_rom)
        try:
            pb.load_state(io.BytesIO(good))
            pb.memory[red.CUR_MAP] = (pb.memory[red.CUR_MAP] + 1) % 256
            bad = save_state(pb)
        finally:
            pb.stop(save=False)
        assert red.verify_state(resolve_rom(testworld_rom), bad) is not None
    path.write_bytes(bad)
    assert start_state(testworld_rom, cache_dir=tmp_path) == good
    assert path.read_bytes() == good


def test_unwritable_cache_warns_and_still_returns_the_state(testworld_rom, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    with pytest.warns(UserWarning, match="POKERL_CACHE_DIR"):
        state = start_state(testworld_rom, cache_dir=blocker / "states")
    assert state == start_state(testworld_rom, cache_dir=tmp_path / "ok")


def test_bad_rom_fails_before_any_emulator(tmp_path):
    from pokerl_fast.game.rom import RomError

    with pytest.raises(RomError, match="does not exist"):
        start_state(tmp_path / "missing.gb", cache_dir=tmp_path)
    assert not any(tmp_path.iterdir())


# --- the real game: only with POKERL_ROM pointing at Pokemon Red (UE) -------------------------



@pytest.mark.red
def test_red_start_state_is_the_bedroom_in_control(tmp_path):
    rom = red_rom()
    state = start_state(rom, cache_dir=tmp_path)
    pb = new_pyboy(rom)
    try:
        pb.load_state(io.BytesIO(state))
        w = red.read_wram(pb)
        assert check_start_state(w) is None
        assert w[CUR_MAP - WRAM_START] == 38 and (w[X_COORD - WRAM_START], w[Y_COORD - WRAM_START]) == (3, 6)
        assert red.probe_control(pb) is None
    finally:
        pb.stop(save=False)
    assert start_state(rom, cache_dir=tmp_path) == state
    assert not any(p.suffix == ".sav" for p in pathlib.Path(rom).parent.iterdir() if p.stem == pathlib.Path(rom).stem)


@pytest.mark.red
def test_red_checks_reject_the_intro_before_its_end():
    rom = red_rom()
    pb = new_pyboy(rom)
    try:
        # Cut where the script itself says Oak still talks: just after the rival's name is confirmed (the second
        # "down" picks the preset name BLUE, the A after it confirms). The intro's last presses are padding: the
        # player is in control some presses before its end, so a cut near the end proves nothing.
        rival_named = [i for i, (button, _) in enumerate(red.INTRO) if button == "down"][1] + 2
        for button, frames in red.INTRO[:rival_named]:
            if button:
                pb.button(button)
            pb.tick(frames, render=False)
        # Map, position and wJoyIgnore already read as the bedroom in control here; what Red itself changes once
        # the overworld runs (wUpdateSpritesEnabled, hWY) does not.
        reason = check_start_state(red.read_wram(pb), hwy=pb.memory[H_WY])
        assert reason is not None and ("hWY" in reason or "wUpdateSpritesEnabled" in reason
                                       or "wJoyIgnore" in reason or "wCurMap" in reason or "player is at" in reason)
    finally:
        pb.stop(save=False)
