"""Red's time between events on the benchmark world's ROM (redtime.py): text printed letter by letter with its
prompt, YES/NO, the naming screen, and battles through Red's menus, each held to its plain Python twin."""

from __future__ import annotations

import io

import pytest

from pokerl_fast.game import constants as C
from pokerl_fast.game.emulator import new_pyboy
from pokerl_fast.game.testworld import BENCH, benchworld_rom_path, boot
from pokerl_fast.game.testworld import redtime as RT
from pokerl_fast.game.testworld import route as R
from pokerl_fast.game.testworld.drive import go_to, play_scene, press, step_onto
from pokerl_fast.game.testworld.world import PRIVATE_RAM, STATES

RAM = RT.RED_TIME_RAM
W = C.WRAM


def state(m) -> str:
    return {v: k for k, v in STATES.items()}[m[PRIVATE_RAM["wState"]]]


def _save(pb) -> bytes:
    buf = io.BytesIO()
    pb.save_state(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def states():
    """Saved states: at boot, and on Route 1's grass after the rival's battle."""
    pb = new_pyboy(benchworld_rom_path())
    try:
        boot(pb)
        out = {"boot": _save(pb)}
        for name, action in R.ROUTE[:5]:
            action(pb)
            play_scene(pb)
        go_to(pb, "ROUTE_1_A", (1, 5), world=BENCH)
        out["grass"] = _save(pb)
        return out
    finally:
        pb.stop(save=False)


@pytest.fixture()
def load(states):
    made = []

    def _load(name: str):
        pb = new_pyboy(benchworld_rom_path())
        pb.load_state(io.BytesIO(states[name]))
        made.append(pb)
        return pb

    yield _load
    for pb in made:
        pb.stop(save=False)


def test_the_python_twins_match_reds_numbers():
    assert [RT.exp_for_level(n) for n in (5, 6, 10, 100)] == [135, 179, 560, 1_059_860]  # Red's medium-slow table
    assert RT.battle_stats("CHARMANDER", 5) == (19, 11, 10, 12)
    assert RT.damage(5, 40, 10, 10, 255) == 5 and RT.damage(5, 40, 10, 10, 217) == 4
    assert RT.escape_threshold(20, 10, 1) is None and RT.escape_threshold(10, 60, 1) == 21
    assert RT.escape_threshold(10, 60, 9) is None  # 21 + 8 * 30 > 255: certain
    assert RT.speech_frames((10, RT.auto(5), RT.pause(2))) == 30 + 15 + RT.AUTO_WAIT + 32


def test_text_prints_a_letter_every_three_frames_or_every_frame_with_a_held_and_waits_at_the_prompt(load):
    pb = load("boot")
    m = pb.memory
    step_onto(pb, "PALLET_N", (4, 2), world=BENCH)  # Oak's speech: a 28-letter box first
    assert state(m) == "TEXT" and m[C.FONT_LOADED] & 1 and m[C.JOY_IGNORE] == 0xFF
    printed = []
    for _ in range(30):
        pb.tick(1, render=False)
        printed.append(m[RAM["wTextCol"]])
    steps = [b - a for a, b in zip(printed, printed[1:])]
    assert set(steps) == {0, 1} and 9 <= printed[-1] - printed[0] <= 11  # one letter per 3 frames
    pb.button_press("a")
    before = m[RAM["wTextCol"]]
    pb.tick(8, render=False)
    pb.button_release("a")
    assert m[RAM["wTextCol"]] - before == 8  # A held: one a frame
    pb.tick(60, render=False)
    assert m[RAM["wTextMode"]] == 1 and m[RAM["wTextCol"]] == 28  # the box is full: the prompt waits
    box = (m[RAM["wTextHi"]] << 8) | m[RAM["wTextLo"]]
    row = bytes(m[C.TILE_MAP + 14 * 20 + 1:C.TILE_MAP + 14 * 20 + 19])
    for button in ("up", "down", "left", "right", "start"):
        press(pb, button)
    assert (m[RAM["wTextHi"]] << 8) | m[RAM["wTextLo"]] == box and m[RAM["wTextMode"]] == 1
    assert bytes(m[C.TILE_MAP + 14 * 20 + 1:C.TILE_MAP + 14 * 20 + 19]) == row
    press(pb, "b")  # B answers a prompt as A does
    assert (m[RAM["wTextHi"]] << 8) | m[RAM["wTextLo"]] == box + 1
    assert R.reached(pb, "EVENT_FOLLOWED_OAK_INTO_LAB") is False  # the event waits for the speech's end
    play_scene(pb)
    assert R.reached(pb, "EVENT_FOLLOWED_OAK_INTO_LAB") and state(m) == "IDLE" and not m[C.FONT_LOADED] & 1


def _to_starter_prompt(pb) -> None:
    m = pb.memory
    for name, action in R.ROUTE[:3]:
        action(pb)
        play_scene(pb)
    step_onto(pb, "OAKS_LAB", (6, 2), world=BENCH)
    for _ in range(40):
        if state(m) == "YESNO":
            return
        press(pb, "a")
    raise AssertionError("no YES/NO after Oak's question")


def _to_naming(pb) -> None:
    """YES to Oak's question, A through the text to the nickname prompt, YES: the naming screen."""
    _to_starter_prompt(pb)
    press(pb, "a")
    for _ in range(40):
        if state(pb.memory) == "YESNO":
            break
        press(pb, "a")
    press(pb, "a")


def test_yes_no_takes_the_cursor_and_b_means_no(load):
    pb = load("boot")
    m = pb.memory
    _to_starter_prompt(pb)
    assert m[C.CURRENT_MENU_ITEM] == 0  # YES
    press(pb, "down")
    assert m[C.CURRENT_MENU_ITEM] == 1
    press(pb, "up")
    press(pb, "a")  # YES
    assert m[C.PARTY_COUNT] == 1 and R.event_set(pb, "EVENT_GOT_STARTER")
    for _ in range(40):  # on to the nickname prompt
        if state(m) == "YESNO":
            break
        press(pb, "a")
    press(pb, "b")  # B: NO, the species' name
    play_scene(pb)
    nick = bytes(m[W["wPartyMonNicks"]:W["wPartyMonNicks"] + 11])
    assert nick == bytes(0x80 + ord(ch) - ord("A") for ch in "CHARMANDER") + b"\x50"


def test_the_naming_screen_types_deletes_jumps_to_end_and_keeps_the_default_when_empty(load):
    pb = load("boot")
    m = pb.memory
    _to_naming(pb)
    assert state(m) == "NAMING" and m[RAM["wWinTop"]] == 0
    press(pb, "right")
    press(pb, "down")
    assert (m[RAM["wNameX"]], m[RAM["wNameY"]]) == (1, 1) and m[C.CURRENT_MENU_ITEM] == 1
    press(pb, "left")
    press(pb, "left")
    assert m[RAM["wNameX"]] == 8  # wraps
    press(pb, "a")
    press(pb, "a")
    assert m[RAM["wNameLen"]] == 2
    press(pb, "b")
    assert m[RAM["wNameLen"]] == 1
    press(pb, "b")
    press(pb, "b")  # nothing left to delete
    assert m[RAM["wNameLen"]] == 0
    press(pb, "start")
    assert (m[RAM["wNameX"]], m[RAM["wNameY"]]) == (8, 4)  # END
    press(pb, "a")  # an empty name: the species' name
    assert state(m) != "NAMING"
    nick = bytes(m[W["wPartyMonNicks"]:W["wPartyMonNicks"] + 11])
    assert nick == bytes(0x80 + ord(ch) - ord("A") for ch in "CHARMANDER") + b"\x50"
    play_scene(pb)
    assert m[C.PARTY_MON1_LEVEL] == 5


def test_a_full_name_jumps_to_end_and_a_confirms_it(load):
    pb = load("boot")
    m = pb.memory
    _to_naming(pb)
    for _ in range(RT.NAME_MAX):
        press(pb, "a")
    assert m[RAM["wNameLen"]] == RT.NAME_MAX and (m[RAM["wNameX"]], m[RAM["wNameY"]]) == (8, 4)
    press(pb, "a")
    assert state(m) != "NAMING" and m[W["wPartyMonNicks"] + RT.NAME_MAX] == 0x50
    assert all(0x80 <= b < 0x80 + RT.GLYPHS for b in m[W["wPartyMonNicks"]:W["wPartyMonNicks"] + RT.NAME_MAX])


def _wild_battle(pb) -> None:
    m = pb.memory
    for k in range(300):
        press(pb, ("right", "left")[k % 2])
        if m[C.IS_IN_BATTLE]:
            return
    raise AssertionError("no wild battle in 300 grass steps")


def _to_menu(pb) -> None:
    """A through text (and B out of anything else) to the battle menu, or to free play when the battle is over."""
    m = pb.memory
    for _ in range(200):
        if state(m) == "B_MENU" or (state(m) == "IDLE" and not m[C.IS_IN_BATTLE]):
            return
        press(pb, "a" if state(m) == "TEXT" else "b")
    raise AssertionError(f"no battle menu (state {state(m)})")


def _word(m, addr: int) -> int:
    return m[addr] << 8 | m[addr + 1]


def test_wild_battles_have_reds_stats_damage_experience_and_levels(load):
    """Several wild battles fought with FIGHT, the first move (SCRATCH, power 40): the enemy's stats are Red's
    formula at its level; every hit on either side lies in the damage rule's range for the attack stages before
    and after the turn; the party's HP follows the battle's; the experience gained is base exp x level / 7, and
    the level rises exactly when the experience reaches Red's table."""
    pb = load("grass")
    m = pb.memory
    species_of = {s.species_id: s.name for s in BENCH.encounters}
    hits = wins = 0
    for _ in range(6):
        _wild_battle(pb)
        name = species_of[m[C.ENEMY_MON_SPECIES]]
        level = m[C.ENEMY_MON_LEVEL]
        mon = RT.MONS[name]
        e_hp, e_atk, e_def, e_spd = RT.battle_stats(name, level)
        assert (_word(m, W["wEnemyMonMaxHP"]), _word(m, W["wEnemyMonAttack"]), _word(m, W["wEnemyMonDefense"]),
                _word(m, W["wEnemyMonSpeed"])) == (e_hp, e_atk, e_def, e_spd)
        _to_menu(pb)
        exp_before = int.from_bytes(bytes(m[W["wPartyMon1Exp"]:W["wPartyMon1Exp"] + 3]), "big")
        lvl = m[C.PARTY_MON1_LEVEL]
        while state(m) == "B_MENU":
            p_stage, e_stage = m[RAM["wPlayerStage"]], m[RAM["wEnemyStage"]]
            enemy_hp, my_hp = m[C.ENEMY_MON_HP + 1], m[C.BATTLE_MON_HP + 1]
            p_atk, p_def = m[W["wBattleMonAttack"] + 1], m[W["wBattleMonDefense"] + 1]
            press(pb, "a")  # FIGHT
            assert state(m) == "B_MOVES" and m[RAM["wMoveCount"]] == 2
            press(pb, "a")  # SCRATCH
            for _ in range(100):  # through the turn's text to the menu (or the battle's end text)
                if state(m) == "B_MENU" or not m[C.ENEMY_MON_HP + 1] or not m[C.BATTLE_MON_HP + 1]:
                    break
                press(pb, "a")
            p_stage2 = m[RAM["wPlayerStage"]]
            dealt = enemy_hp - m[C.ENEMY_MON_HP + 1]
            ranges = {RT.damage(lvl, 40, RT.stage_attack(p_atk, s), e_def, r) for s in (p_stage, p_stage2)
                      for r in (217, 255)}
            if m[C.ENEMY_MON_HP + 1]:
                assert min(ranges) <= dealt <= max(ranges), (name, level, dealt, ranges)
                hits += 1
            taken = my_hp - m[C.BATTLE_MON_HP + 1]
            if taken and m[C.BATTLE_MON_HP + 1]:
                hi = RT.damage(level, mon.power, RT.stage_attack(e_atk, e_stage), p_def, 255)
                assert RT.damage(level, mon.power, RT.stage_attack(e_atk, 0), p_def, 217) <= taken <= hi, (taken, hi)
            assert m[C.PARTY_MON1_HP + 1] == m[C.BATTLE_MON_HP + 1]  # the party's HP follows each hit
        if not m[C.BATTLE_MON_HP + 1]:
            break
        assert m[C.ENEMY_MON_HP + 1] == 0
        for _ in range(60):  # "fainted", "gained EXP", maybe "grew to level"
            if not m[C.IS_IN_BATTLE]:
                break
            press(pb, "a")
        wins += 1
        exp = int.from_bytes(bytes(m[W["wPartyMon1Exp"]:W["wPartyMon1Exp"] + 3]), "big")
        assert exp - exp_before == RT.exp_gain(mon.base_exp, level, trainer=False)
        new_level = m[C.PARTY_MON1_LEVEL]
        assert RT.exp_for_level(new_level) <= exp < RT.exp_for_level(new_level + 1)
        assert _word(m, W["wPartyMon1MaxHP"]) == RT.battle_stats("CHARMANDER", new_level)[0]
        assert m[C.WRAM["wPartyMon1Attack"] + 1] == RT.battle_stats("CHARMANDER", new_level)[1]
        play_scene(pb)
        if _word(m, C.PARTY_MON1_HP) < 10:
            break
    assert wins >= 1 and hits >= 1


def test_run_is_refused_by_a_trainer_and_always_works_when_faster(load):
    pb = load("grass")
    m = pb.memory
    _wild_battle(pb)
    _to_menu(pb)
    m[W["wBattleMonSpeed"] + 1] = 255  # faster than anything: Red lets you go
    press(pb, "right")
    press(pb, "down")
    assert m[C.CURRENT_MENU_ITEM] == 3  # RUN
    press(pb, "a")
    play_scene(pb)
    assert m[C.IS_IN_BATTLE] == 0 and m[W["wNumRunAttempts"]] == 1
    # slower than the enemy: a try may fail (the enemy then attacks), and by the 9th it cannot
    _wild_battle(pb)
    _to_menu(pb)
    m[W["wBattleMonSpeed"] + 1] = 1
    m[C.BATTLE_MON_HP + 1] = m[C.PARTY_MON1_HP + 1] = 250
    for tries in range(1, 10):
        while m[C.CURRENT_MENU_ITEM] != 3:
            press(pb, "down" if m[C.CURRENT_MENU_ITEM] < 2 else "right")
        press(pb, "a")
        _to_menu(pb)
        if not m[C.IS_IN_BATTLE]:
            break
        assert m[W["wNumRunAttempts"]] == tries
    assert m[C.IS_IN_BATTLE] == 0 and tries <= 9


def test_no_running_from_the_rivals_battle(load):
    pb = load("boot")
    m = pb.memory
    for name, action in R.ROUTE[:4]:
        action(pb)
        play_scene(pb)
    step_onto(pb, "OAKS_LAB", (4, 6), world=BENCH)
    _to_menu(pb)
    assert m[C.IS_IN_BATTLE] == C.BATTLE_TRAINER and m[C.CUR_OPPONENT] == C.OPP_RIVAL1
    hp_before = m[C.ENEMY_MON_HP + 1]
    press(pb, "right")
    press(pb, "down")
    press(pb, "a")  # RUN
    assert state(m) == "TEXT"
    _to_menu(pb)
    assert m[C.IS_IN_BATTLE] == C.BATTLE_TRAINER and state(m) == "B_MENU" and m[C.ENEMY_MON_HP + 1] == hp_before
    assert (_word(m, W["wEnemyMonMaxHP"]), m[C.ENEMY_MON_LEVEL]) == (RT.battle_stats("SQUIRTLE", 5)[0], 5)
    # PKMN and ITEM open a screen of their own that B leaves
    press(pb, "right")
    press(pb, "a")
    assert state(m) == "B_SUB"
    press(pb, "a")
    assert state(m) == "B_SUB"
    press(pb, "b")
    assert state(m) == "B_MENU" and m[C.CURRENT_MENU_ITEM] == 1


def test_the_battle_screen_is_what_the_window_shows(load):
    """The window mirrors wTileMap (the battle screen drawn there, as Red draws it): after a few frames the
    window map holds the same tiles, and the screen is no longer the room."""
    pb = load("grass")
    m = pb.memory
    _wild_battle(pb)
    _to_menu(pb)
    pb.tick(12, render=True)
    tile_map = [m[C.TILE_MAP + r * 20 + c] for r in range(18) for c in range(20)]
    window = [m[0x9C00 + r * 32 + c] for r in range(18) for c in range(20)]
    assert tile_map == window and m[RAM["wWinTop"]] == 0
    assert m[0xFF40] & 0x20 and not m[0xFF40] & 0x02  # window on, no sprites over the battle
