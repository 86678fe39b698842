"""Battery saves (issue 22 item 3): the save world's (the benchmark world with saves) SAVE, main menu and CONTINUE (testworld/savegame.py) on
real PyBoy, held to Red's save layout and checksum (game/sav.py, the Python twin), and ``--start-save`` from a save
the world wrote: checked, continued by script, cached, and refused in one line when it is not a save."""

from __future__ import annotations

import io

import numpy as np
import pytest

from pokerl_fast.game import constants as C
from pokerl_fast.game import red
from pokerl_fast.game import sav as S
from pokerl_fast.game.emulator import cartridge_ram_size, new_pyboy
from pokerl_fast.game.red import StartStateError
from pokerl_fast.game.rom import resolve_rom
from pokerl_fast.game import testworld
from pokerl_fast.game.testworld import BENCH_SAVE as BENCH
from pokerl_fast.game.testworld import boot, select_item, world_rom_path
from pokerl_fast.game.testworld import route as R
from pokerl_fast.game.testworld import savegame as SG
from pokerl_fast.game.testworld.drive import play_scene, position, press
from pokerl_fast.game.testworld.world import PRIVATE_RAM, STATES

def save_rom() -> str:
    return world_rom_path("benchsave")


SAVE_ITEM = 3  # the start menu before the Pokedex: POKEMON ITEM RED SAVE OPTION EXIT


def state(m) -> str:
    return {v: k for k, v in STATES.items()}[m[PRIVATE_RAM["wState"]]]


def sram(pb) -> bytes:
    out = io.BytesIO()
    pb.stop(save=True, ram_file=out)
    return out.getvalue()


def save_game(pb, yes: bool = True) -> None:
    """START, SAVE, the question's prompt, YES (or NO), and the text after it."""
    press(pb, "start")
    select_item(pb, SAVE_ITEM)
    press(pb, "a")
    assert state(pb.memory) == "TEXT"
    play_scene(pb, yes=yes)
    assert state(pb.memory) == "IDLE"


def synthetic_sav(name: bool = True, good_sum: bool = True, seed: int | None = None) -> bytes:
    """32 KiB of cartridge RAM (random bytes when ``seed``), with Red's name "RED@" and a right or wrong sum."""
    sav = bytearray(np.random.default_rng(seed).integers(0, 256, C.SAV_SIZE, np.uint8).tobytes() if seed is not None
                    else bytes(C.SAV_SIZE))
    at = S.sav_offset(C.S_PLAYER_NAME)
    sav[at:at + C.NAME_LENGTH] = bytes(SG.PLAYER_NAME_RED).ljust(C.NAME_LENGTH, b"\0") if name else b"\x80" * 11
    sav[S.sav_offset(C.S_MAIN_DATA_CHECKSUM)] = S.sav_checksum(sav) ^ (0 if good_sum else 0x5A)
    return bytes(sav)


@pytest.fixture(scope="module")
def saves():
    """Saves the world wrote: at the start (bedroom) and in Oak's lab with the starter; the WRAM they copied."""
    rom = save_rom()
    out = {}
    pb = new_pyboy(rom)
    boot(pb)
    press(pb, "down")
    save_game(pb, yes=False)
    out["declined"] = sram(pb)
    pb = new_pyboy(rom)
    boot(pb)
    for name, action in R.ROUTE:
        action(pb)
        play_scene(pb)
        if name == "EVENT_GOT_STARTER":
            break
    out["lab_place"] = position(pb, BENCH)
    save_game(pb)
    out["lab_wram"] = {w: bytes(pb.memory[w:w + n]) for w, _, n in S.SAVE_RANGES}
    out["lab_tile_animations"] = pb.memory[C.H_TILE_ANIMATIONS]
    out["lab"] = sram(pb)
    return out


def test_the_save_world_is_reds_cartridge_and_the_others_keep_no_save():
    assert cartridge_ram_size(save_rom()) == C.SAV_SIZE == 4 * C.SRAM_BANK_SIZE
    assert cartridge_ram_size(testworld.testworld_rom_path()) == 0
    assert cartridge_ram_size(testworld.benchworld_rom_path()) == 0


def test_save_writes_reds_layout_and_checksum(saves):
    sav = saves["lab"]
    assert len(sav) == C.SAV_SIZE
    for wram, sram_addr, size in S.SAVE_RANGES:
        at = S.sav_offset(sram_addr)
        assert sav[at:at + size] == saves["lab_wram"][wram], f"sRAM 0x{sram_addr:04X} is not WRAM 0x{wram:04X}"
    assert sav[S.sav_offset(C.S_TILE_ANIMATIONS)] == saves["lab_tile_animations"]
    assert sav[S.sav_offset(C.S_MAIN_DATA_CHECKSUM)] == S.sav_checksum(sav)  # the ROM's sum = the Python twin's
    assert S.check_sav(sav) is None
    lab = BENCH.room("OAKS_LAB")
    assert S.saved_place(sav) == (lab.map_id, lab.offset[0] + saves["lab_place"][1][0],
                                  lab.offset[1] + saves["lab_place"][1][1])
    assert saves["declined"] == bytes(C.SAV_SIZE), "NO must write nothing"
    assert "holds no player name" in S.check_sav(saves["declined"])


def test_check_sav_names_each_problem():
    assert S.check_sav(synthetic_sav()) is None
    assert "is 100 bytes" in S.check_sav(bytes(100))
    assert "no player name" in S.check_sav(synthetic_sav(name=False))
    assert "fails the game's checksum" in S.check_sav(synthetic_sav(good_sum=False))
    one_bank = C.SRAM_BANK_SIZE
    assert f"is 32,768 bytes, but a battery save of this cartridge is {one_bank:,}" in S.check_sav(synthetic_sav(),
                                                                                                  one_bank)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("good_sum", [True, False])
def test_the_roms_save_check_agrees_with_the_python_twin(seed, good_sum):
    """Random cartridge RAM: the ROM's boot shows the main menu exactly when check_sav passes the bytes."""
    sav = synthetic_sav(good_sum=good_sum, seed=seed)
    pb = new_pyboy(save_rom(), sav=sav)
    try:
        boot(pb)
        pb.tick(2, render=False)
        assert (state(pb.memory) == "MAIN_MENU") == (S.check_sav(sav) is None) == good_sum
    finally:
        pb.stop(save=False)


def test_main_menu_continue_and_new_game(saves):
    rom = save_rom()
    pb = new_pyboy(rom, sav=saves["lab"])
    try:
        boot(pb)
        pb.tick(2, render=False)
        m = pb.memory
        assert state(m) == "MAIN_MENU"
        assert (m[C.CURRENT_MENU_ITEM], m[C.MAX_MENU_ITEM], m[C.TOP_MENU_ITEM_X], m[C.TOP_MENU_ITEM_Y]) == (0, 2, 1, 2)
        assert m[C.UPDATE_SPRITES_ENABLED] == 0xFF and m[C.H_WY] == 0
        assert "wUpdateSpritesEnabled is 0xFF" in red.check_in_control(red.read_wram(pb), m[C.H_WY])
        press(pb, "a")  # CONTINUE: the info box
        assert state(m) == "MAIN_MENU" and m[SG.SAVE_RAM["wMainInfo"]] > 0
        press(pb, "b", frames=SG.INFO_WAIT + 8)  # B, once the box takes buttons: back to the menu
        assert m[SG.SAVE_RAM["wMainInfo"]] == 0 and m[C.CURRENT_MENU_ITEM] == 0
        menu = io.BytesIO()
        pb.save_state(menu)
        press(pb, "a")
        press(pb, "a", frames=SG.INFO_WAIT + 8)  # held A after the wait: into the game
        assert state(m) == "IDLE" and position(pb, BENCH) == saves["lab_place"]
        assert red.check_in_control(red.read_wram(pb), m[C.H_WY]) is None and red.probe_control(pb) is None
        for wram, _, size in S.SAVE_RANGES[:2] + S.SAVE_RANGES[3:]:  # the sprites move on in play
            assert bytes(m[wram:wram + size]) == saves["lab_wram"][wram]
        pb.load_state(io.BytesIO(menu.getvalue()))
        press(pb, "down")
        press(pb, "a")  # NEW GAME: the start room, no party, as a boot without a save
        assert state(m) == "IDLE" and position(pb, BENCH) == (BENCH.start_room, BENCH.start_xy)
        assert m[C.PARTY_COUNT] == 0 and m[C.UPDATE_SPRITES_ENABLED] == 1 and m[C.H_WY] == C.WY_NO_WINDOW
    finally:
        pb.stop(save=False)


def test_start_state_from_sav_continues_checks_and_caches(saves, tmp_path):
    path = tmp_path / "lab.sav"
    path.write_bytes(saves["lab"])
    rom = save_rom()
    state_bytes = S.start_state_from_sav(path, rom, cache_dir=tmp_path / "cache")
    cached = list((tmp_path / "cache").iterdir())
    assert len(cached) == 1 and cached[0].read_bytes() == state_bytes and "-sav-" in cached[0].name
    assert S.start_state_from_sav(path, rom, cache_dir=tmp_path / "cache") == state_bytes  # reused
    cached[0].write_bytes(b"damaged")
    assert S.start_state_from_sav(path, rom, cache_dir=tmp_path / "cache") == state_bytes  # made again
    pb = new_pyboy(rom, sav=saves["lab"])
    try:
        pb.load_state(io.BytesIO(state_bytes))
        assert position(pb, BENCH) == saves["lab_place"] and pb.memory[C.PARTY_COUNT] == 1
        assert S.check_continued(pb, resolve_rom(rom), saves["lab"]) is None
    finally:
        pb.stop(save=False)


def test_a_save_of_no_place_in_the_world_is_refused(tmp_path):
    """Right checksum, but the map the save names is no room here: CONTINUE puts the player at the start, and the
    script says the save was not continued where it was made."""
    path = tmp_path / "other.sav"
    path.write_bytes(synthetic_sav())
    with pytest.raises(StartStateError, match=r"did not continue \S*other.sav \(the player is on map 38"):
        S.start_state_from_sav(path, save_rom(), cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_env_starts_episodes_where_the_save_was_made(saves, tmp_path):
    from pokerl_fast.env import make_vec_env

    path = tmp_path / "lab.sav"
    path.write_bytes(saves["lab"])
    lab = BENCH.room("OAKS_LAB")
    envs = make_vec_env(2, rom="benchsave", start_save=str(path), episode_length=4, reset_noop_max=0)
    try:
        obs, info = envs.reset()
        assert (obs["map_id"][:, 0] == lab.map_id).all()
        assert list(info["x"]) == [lab.offset[0] + saves["lab_place"][1][0]] * 2
        for _ in range(4):  # the episode ends after 4 steps: the next one starts in the lab again
            obs, _, _, truncated, info = envs.step(np.full(2, envs.config.actions.index("b"), np.int64))
        assert truncated.all() and (obs["map_id"][:, 0] == lab.map_id).all()
        assert list(info["x"]) == [lab.offset[0] + saves["lab_place"][1][0]] * 2
    finally:
        envs.close()
