"""The benchmark world: its layout, its ROM, and Red's mechanics on the real emulator (a scripted route through
every milestone, Oak's escort after his speech, the starter's YES/NO, the forgiven rival loss, ledges, screens
with their own coordinates, the old man, a real blackout to the last heal point, Brock's level gate, RUN from a
wild battle). The text, menu and battle engine itself: test_redtime.py."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest

import pokerl_fast
import pokerl_fast.config

from pokerl_fast.game import constants as C
from pokerl_fast.game.emulator import new_pyboy
from pokerl_fast.game.rom import resolve_rom
from pokerl_fast.game.testworld import BENCH, benchworld_rom_path, boot, build_benchworld_rom
from pokerl_fast.game.testworld import layout as L
from pokerl_fast.game.testworld import redtime as RT
from pokerl_fast.game.testworld import route as R
from pokerl_fast.game.testworld.bench import MILESTONE_SPOTS
from pokerl_fast.game.testworld.drive import (
    approach,
    events_set,
    finish_battle,
    go_to,
    in_control,
    play_scene,
    position,
    press,
    step_onto,
    wait_until,
)
from pokerl_fast.game.testworld.world import PRIVATE_RAM, STATES, build_rom


def money(m) -> int:
    return int("".join(f"{m[C.PLAYER_MONEY + i]:02x}" for i in range(3)))


def hp(m) -> int:
    return m[C.PARTY_MON1_HP] << 8 | m[C.PARTY_MON1_HP + 1]


@pytest.fixture(scope="module")
def boot_bytes():
    pb = new_pyboy(benchworld_rom_path())
    try:
        boot(pb)
        buf = io.BytesIO()
        pb.save_state(buf)
        return buf.getvalue()
    finally:
        pb.stop(save=False)


@pytest.fixture()
def pb(boot_bytes):
    pyboy = new_pyboy(benchworld_rom_path())
    pyboy.load_state(io.BytesIO(boot_bytes))
    yield pyboy
    pyboy.stop(save=False)


def play_until(pyboy, milestone: str) -> None:
    """Play the route from wherever the player is, skipping the milestones already reached."""
    for name, action in R.ROUTE:
        if not R.reached(pyboy, name):
            action(pyboy)
            play_scene(pyboy)
        if name == milestone:
            return
    raise AssertionError(milestone)


def test_layout_is_valid_and_the_rom_is_deterministic_and_known():
    BENCH.validate()
    rom = build_benchworld_rom()
    assert len(rom) == 32 * 1024 and build_rom(BENCH) == rom
    info = resolve_rom("benchworld")
    assert info.world == "benchworld" and info.is_testworld and not info.is_red
    assert info.sha1 == hashlib.sha1(rom).hexdigest() and info.title == "PKRL BENCHWORLD"
    assert resolve_rom(benchworld_rom_path()).world == "benchworld"


def test_every_milestone_is_reachable_in_the_layout():
    here = (BENCH.start_room, BENCH.start_xy)
    opened: list[str] = []
    for event, (room, xy) in MILESTONE_SPOTS.items():
        path = BENCH.find_path(*here, room, xy, opened_by=opened)
        assert path or here == (room, xy), event
        opened.append(event)
        sp = BENCH.special_at(room, xy)
        here = sp.warp if isinstance(sp, L.Trigger) and sp.warp else (room, xy)  # Oak walks you into the lab


def test_the_scripted_route_reaches_every_milestone_in_order(pb):
    m = pb.memory
    assert m[C.PARTY_COUNT] == 0 and m[C.PARTY_SPECIES] == 0xFF  # an empty party until the starter, as in Red
    table = R.play_route(pb)
    names = [name for name, _ in table]
    assert names == [name for name, _ in R.ROUTE]
    frames = [f for _, f in table]
    assert frames == sorted(frames) and frames[-1] > 10_000
    assert m[C.OBTAINED_BADGES] & 1 << C.BIT_BOULDERBADGE
    for name in R.ROUTE:
        if name[0].startswith("EVENT_"):
            assert R.event_set(pb, name[0]), name


def set_level(m, level: int) -> None:
    """The starter at ``level`` with its stats from Red's formula (redtime.battle_stats), HP full."""
    hp_max, atk, dfn, spd = RT.battle_stats(BENCH.starter.name, level)
    m[C.PARTY_MON1_LEVEL] = level
    for field, value in (("wPartyMon1MaxHP", hp_max), ("wPartyMon1HP", hp_max), ("wPartyMon1Attack", atk),
                         ("wPartyMon1Defense", dfn), ("wPartyMon1Speed", spd)):
        m[C.WRAM[field]], m[C.WRAM[field] + 1] = 0, value


def test_oak_stops_you_and_the_aide_keeps_you_in_the_lab_until_the_starter(pb):
    m = pb.memory
    step_onto(pb, "PALLET_N", (4, 2), world=BENCH)
    # Oak's speech first: the event comes at its end, as Red's scripts set it; the d-pad does nothing meanwhile
    assert m[PRIVATE_RAM["wState"]] == STATES["TEXT"] and m[C.FONT_LOADED] & 1
    assert not R.event_set(pb, "EVENT_FOLLOWED_OAK_INTO_LAB")
    for button in ("up", "left", "down"):
        press(pb, button)
    assert position(pb, BENCH) == ("PALLET_N", (4, 2)) and m[PRIVATE_RAM["wState"]] == STATES["TEXT"]
    play_scene(pb)
    assert position(pb, BENCH) == ("OAKS_LAB", (4, 4)) and R.event_set(pb, "EVENT_FOLLOWED_OAK_INTO_LAB")
    press(pb, "down")  # the aide at (4, 5) is in the way
    assert position(pb, BENCH) == ("OAKS_LAB", (4, 4))
    step_onto(pb, "OAKS_LAB", (6, 2), world=BENCH)  # the ball before Oak asked: nothing
    assert m[C.PARTY_COUNT] == 0 and not R.event_set(pb, "EVENT_GOT_STARTER") and in_control(m)
    play_until(pb, "EVENT_GOT_STARTER")
    play_scene(pb)
    assert m[C.PARTY_COUNT] == 1 and m[C.PARTY_SPECIES] == BENCH.starter.species_id
    assert m[C.PARTY_MON1_LEVEL] == 5 and hp(m) == RT.battle_stats(BENCH.starter.name, 5)[0]
    assert m[PRIVATE_RAM["wRoomKind"] + 5 * 10 + 4] == 0  # the aide stepped aside (floor)


def test_saying_no_to_the_ball_leaves_it_on_the_table(pb):
    m = pb.memory
    play_until(pb, "EVENT_OAK_ASKED_TO_CHOOSE_MON")
    step_onto(pb, "OAKS_LAB", (6, 2), world=BENCH)
    play_scene(pb, yes=False)
    assert m[C.PARTY_COUNT] == 0 and not R.event_set(pb, "EVENT_GOT_STARTER")
    go_to(pb, "OAKS_LAB", (5, 2), world=BENCH)
    press(pb, "right")  # back onto the ball: asked again
    play_scene(pb, yes=True)
    assert m[C.PARTY_COUNT] == 1 and R.event_set(pb, "EVENT_GOT_STARTER")


def test_losing_to_the_rival_in_the_lab_is_forgiven_as_in_red(pb):
    """HP 1 into the rival's battle: his first hit faints the starter. While the party's HP reads 0 the battle is
    still on (a trainer's, opponent OPP_RIVAL1, in the lab: what the blackout term's forgiveness reads); then the
    rival's words, healed, his event set, no money lost, no warp."""
    m = pb.memory
    play_until(pb, "EVENT_GOT_STARTER")
    before = money(m)
    go_to(pb, "OAKS_LAB", (4, 5), world=BENCH)  # where the aide stood
    m[C.PARTY_MON1_HP], m[C.PARTY_MON1_HP + 1] = 0, 1
    press(pb, "down")
    assert m[C.IS_IN_BATTLE] == 0 and m[PRIVATE_RAM["wState"]] == STATES["TEXT"]  # "Wait RED!" first
    seen_zero = []
    for _ in range(300):
        if hp(m) == 0 and m[C.IS_IN_BATTLE]:
            seen_zero.append((m[C.IS_IN_BATTLE], m[C.CUR_OPPONENT], m[C.CUR_MAP]))
        if in_control(m) and m[PRIVATE_RAM["wState"]] == STATES["IDLE"] and R.event_set(pb, "EVENT_BATTLED_RIVAL_IN_OAKS_LAB"):
            break
        press(pb, "a")
    assert seen_zero and set(seen_zero) == {(C.BATTLE_TRAINER, C.OPP_RIVAL1, C.MAP_IDS["OAKS_LAB"])}
    assert R.event_set(pb, "EVENT_BATTLED_RIVAL_IN_OAKS_LAB")
    assert position(pb, BENCH) == ("OAKS_LAB", (4, 6)) and money(m) == before
    assert hp(m) == RT.battle_stats(BENCH.starter.name, 5)[0]


def test_screens_of_one_map_have_their_own_coordinates_and_ledges_are_one_way(pb):
    m = pb.memory
    play_until(pb, "EVENT_BATTLED_RIVAL_IN_OAKS_LAB")
    go_to(pb, "ROUTE_1_A", (4, 7), world=BENCH)
    assert m[C.CUR_MAP] == C.MAP_IDS["ROUTE_1"] and (m[C.X_COORD], m[C.Y_COORD]) == (5 + 4, 27 + 7)
    go_to(pb, "ROUTE_1_B", (3, 7), world=BENCH)
    assert m[C.CUR_MAP] == C.MAP_IDS["ROUTE_1"] and (m[C.X_COORD], m[C.Y_COORD]) == (5 + 3, 18 + 7)
    # ROUTE_1_A's ledge row (y 3): down onto it works, up onto it does not
    go_to(pb, "ROUTE_1_A", (1, 2), world=BENCH)
    press(pb, "down")
    finish_battle(pb)
    assert position(pb, BENCH) == ("ROUTE_1_A", (1, 3))
    press(pb, "down")
    go_to(pb, "ROUTE_1_A", (1, 4), world=BENCH)
    press(pb, "up")
    assert position(pb, BENCH) == ("ROUTE_1_A", (1, 4))
    assert BENCH.find_path("ROUTE_1_A", (1, 4), "ROUTE_1_A", (1, 2))[0] != "up"


def test_the_old_man_blocks_the_way_north_until_the_pokedex(pb):
    play_until(pb, "EVENT_GOT_OAKS_PARCEL")
    go_to(pb, "VIRIDIAN_N", (6, 3), world=BENCH)
    press(pb, "up")
    assert position(pb, BENCH) == ("VIRIDIAN_N", (6, 3))
    with pytest.raises(L.LayoutError):
        BENCH.find_path("VIRIDIAN_N", (6, 3), "ROUTE_2_S", (6, 7))
    play_until(pb, "EVENT_GOT_POKEDEX")
    assert "EVENT_GOT_POKEDEX" in events_set(pb, BENCH)
    go_to(pb, "ROUTE_2_S", (6, 7), world=BENCH)
    assert pb.memory[C.CUR_MAP] == C.MAP_IDS["ROUTE_2"]


def test_brock_needs_levels_and_a_loss_is_a_blackout_to_the_last_heal_point(pb):
    m = pb.memory
    play_until(pb, "PEWTER_CITY")
    step_onto(pb, "PEWTER_POKECENTER", (4, 1), world=BENCH)  # the last heal point from now on
    play_scene(pb)
    assert m[C.LAST_BLACKOUT_MAP] == C.MAP_IDS["PEWTER_POKECENTER"]
    set_level(m, 8)  # Brock's ONIX (level 10, defense 160 in Red) outlasts a level-8 mon
    before = money(m)
    step_onto(pb, "PEWTER_GYM", (4, 1), world=BENCH)
    assert play_scene(pb)  # fainted
    assert position(pb, BENCH) == ("PEWTER_POKECENTER", (4, 4))
    assert money(m) == before // 2 and hp(m) == RT.battle_stats(BENCH.starter.name, 8)[0]
    assert not R.event_set(pb, "EVENT_BEAT_BROCK") and m[C.IS_IN_BATTLE] == 0
    set_level(m, 20)
    step_onto(pb, "PEWTER_GYM", (4, 1), world=BENCH)
    assert not play_scene(pb)
    assert R.event_set(pb, "EVENT_BEAT_BROCK") and m[C.OBTAINED_BADGES] & 1


def test_a_wild_battle_can_be_fled_and_names_its_species(pb):
    m = pb.memory
    play_until(pb, "EVENT_BATTLED_RIVAL_IN_OAKS_LAB")
    go_to(pb, "ROUTE_1_A", (1, 5), world=BENCH)
    for k in range(200):
        press(pb, ("right", "left")[k % 2])  # back and forth on the grass
        if m[C.IS_IN_BATTLE]:
            break
    else:
        raise AssertionError("no wild battle in 200 grass steps")
    assert m[C.IS_IN_BATTLE] == C.BATTLE_WILD and m[C.CUR_OPPONENT] == m[C.ENEMY_MON_SPECIES]
    level, exp = m[C.PARTY_MON1_LEVEL], bytes(m[C.WRAM["wPartyMon1Exp"]:C.WRAM["wPartyMon1Exp"] + 3])
    play_scene(pb, run=True)
    assert m[C.IS_IN_BATTLE] == 0 and m[C.ENEMY_MON_HP + 1] > 0 and m[C.WRAM["wNumRunAttempts"]] >= 1
    assert m[C.PARTY_MON1_LEVEL] == level
    assert bytes(m[C.WRAM["wPartyMon1Exp"]:C.WRAM["wPartyMon1Exp"] + 3]) == exp


def test_docs_draw_the_maps_as_the_layout_has_them():
    import pathlib

    doc = pathlib.Path(__file__).resolve().parents[2] / "docs" / "benchworld.md"
    assert BENCH.describe_rooms() in doc.read_text(), "regenerate the maps in docs/benchworld.md from describe_rooms()"


def _env_from(pyboy):
    """A one-env vector env (plain EnvConfig) starting from the PyBoy's current state."""
    import pokerl_fast

    buf = io.BytesIO()
    pyboy.save_state(buf)
    return pokerl_fast.make_vec_env(1, rom="benchworld", start_state=buf.getvalue(), reset_noop_max=0)


def _step_until_battle_over(envs, action: int, steps: int = 400) -> dict:
    """Reset, one ``action`` (into the battle), then A (text, FIGHT, the first move) until the battle is over and
    its text closed; the reward terms' sums."""
    a = list(pokerl_fast.config.ACTIONS).index("a")
    envs.reset(seed=0)
    _, _, _, _, info = envs.step(np.array([action]))
    started = False
    for _ in range(steps):
        _, _, _, _, info = envs.step(np.array([a]))
        started = started or info["in_battle"][0] != 0
        if started and info["in_battle"][0] == 0 and info["scene"][0] == 0:
            break
    else:
        raise AssertionError(f"the battle did not end in {steps} steps")
    return {k: float(v[0]) for k, v in info.items() if k.startswith("reward/")}


def test_the_reward_forgives_the_rival_in_the_lab_and_charges_brocks_blackout(pb):
    """The env's reward terms on the benchmark world fire where Red's would: losing the lab's rival battle is no
    blackout (the rival's event still pays), losing to Brock is one."""
    down = list(pokerl_fast.config.ACTIONS).index("down")
    m = pb.memory
    play_until(pb, "EVENT_GOT_STARTER")
    go_to(pb, "OAKS_LAB", (4, 5), world=BENCH)
    m[C.PARTY_MON1_HP], m[C.PARTY_MON1_HP + 1] = 0, 1  # the rival's first hit wins
    envs = _env_from(pb)
    try:
        terms = _step_until_battle_over(envs, down)
        assert terms["reward/blackout"] == 0.0 and terms["reward/battles_won"] == 0.0
        assert terms["reward/required_events"] > 0  # EVENT_BATTLED_RIVAL_IN_OAKS_LAB, set by the forgiven loss
    finally:
        envs.close()
    play_until(pb, "PEWTER_CITY")
    go_to(pb, "PEWTER_GYM", (4, 2), world=BENCH)
    m[C.PARTY_MON1_HP], m[C.PARTY_MON1_HP + 1] = 0, 1  # Brock's first hit wins
    up = list(pokerl_fast.config.ACTIONS).index("up")
    envs = _env_from(pb)
    try:
        terms = _step_until_battle_over(envs, up)
        assert terms["reward/blackout"] < 0.0 and terms["reward/battles_won"] == 0.0
    finally:
        envs.close()


def _terms_after(envs, actions) -> tuple[dict, dict]:
    """Reset, step ``actions``; the reward terms' sums and the last info."""
    envs.reset(seed=0)
    for action in actions:
        _, _, _, _, info = envs.step(np.array([action]))
    return {k: float(v[0]) for k, v in info.items() if k.startswith("reward/")}, info


def test_the_starter_joins_with_its_stats_after_its_nickname_prompt(pb):
    """Red's AddPartyMon lists the new mon (wPartyCount, the species list) before the nickname prompt and fills its
    struct (level, HP) after it: until then the party has no mon. Walking onto the ball and pressing A through
    Oak's question, the nickname prompt and the naming screen (A types ten letters, the cursor jumps to END, A
    confirms), and starting an episode inside the prompt, the starter joins at level 5 with full HP: no level
    gain, no heal, no blackout (on the real game all three were paid for the half-added starter:
    ../shared/notes/real-game.md)."""
    m = pb.memory
    actions = list(pokerl_fast.config.ACTIONS)
    play_until(pb, "EVENT_OAK_ASKED_TO_CHOOSE_MON")
    onto = approach(pb, "OAKS_LAB", (6, 2), world=BENCH)
    envs = _env_from(pb)  # just before the ball
    try:
        terms, info = _terms_after(envs, [actions.index(onto)] + [actions.index("a")] * 80)
        assert info["levels"][0] == BENCH.starter_level and info["required_events"][0] > 0
        assert terms["reward/levels"] == terms["reward/heal"] == terms["reward/blackout"] == 0.0
    finally:
        envs.close()
    press(pb, onto)
    for _ in range(60):  # through Oak's question (YES) to the nickname prompt
        if m[PRIVATE_RAM["wState"]] == STATES["YESNO"] and m[C.PARTY_COUNT] == 1:
            break
        press(pb, "a")
    assert m[PRIVATE_RAM["wState"]] == STATES["YESNO"] and m[C.FONT_LOADED] & 1
    assert m[C.PARTY_COUNT] == 1 and m[C.PARTY_SPECIES] == BENCH.starter.species_id and hp(m) == 0
    envs = _env_from(pb)  # inside the prompt: the mon is listed, its struct not filled yet
    try:
        _, info = envs.reset(seed=0)
        assert info["levels"][0] == 0
        terms, info = _terms_after(envs, [actions.index("b")] * 6)  # NO: the species' name
        assert info["levels"][0] == BENCH.starter_level
        assert terms["reward/levels"] == terms["reward/heal"] == terms["reward/blackout"] == 0.0
    finally:
        envs.close()


def test_beating_brock_pays_a_trainer_win_and_the_badge(pb):
    """Level 15 and healed (the scripted route), into Brock's battle and A (text, FIGHT, the first move) until it
    is won: the win pays battles_won once, the badge and Brock's event; no blackout."""
    play_until(pb, "HEALED")
    go_to(pb, "PEWTER_GYM", (4, 2), world=BENCH)
    m = pb.memory
    m[C.PARTY_MON1_HP], m[C.PARTY_MON1_HP + 1] = m[C.PARTY_MON1_MAX_HP], m[C.PARTY_MON1_MAX_HP + 1]
    up, a = (list(pokerl_fast.config.ACTIONS).index(b) for b in ("up", "a"))
    envs = _env_from(pb)
    try:
        envs.reset(seed=0)
        envs.step(np.array([up]))
        fought = False
        for _ in range(400):
            _, _, _, _, info = envs.step(np.array([a]))
            fought = fought or info["in_battle"][0] == C.BATTLE_TRAINER
            if fought and info["in_battle"][0] == 0 and info["scene"][0] == 0:
                break
        assert fought
        assert info["in_battle"][0] == 0 and info["badges"][0] == 1
        weights = pokerl_fast.config.RewardConfig()
        assert info["reward/battles_won"][0] == weights.battles_won
        assert info["reward/badges"][0] == weights.badges and info["reward/blackout"][0] == 0.0
    finally:
        envs.close()
