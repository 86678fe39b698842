"""The test world's Red-like menus and field moves in real PyBoy: start menu, party menu, field-move
submenu (RAM semantics step by step), Cut / Surf / Strength on ROUTE_2, the wTileMap mirror and the tileset.
Buttons are pressed like the env does (hold 8 frames, tick 24)."""

import io

import numpy as np
import pytest

from support import save_state

from pokerl_fast.game import constants as C
from pokerl_fast.game import testworld as tw
from pokerl_fast.game.emulator import new_pyboy
from pokerl_fast.game.testworld import layout as L
from pokerl_fast.game.testworld.drive import DriveError, close_menus, face, go_to, position, press, select_item
from pokerl_fast.game.testworld.world import KINDS, PRIVATE_RAM, STATES, TILE_MAP_IDS

STATE = PRIVATE_RAM["wState"]
ROUTE = "ROUTE_2"
TREE = L.cells_of(ROUTE, L.CUT_TREE)[0]
BOULDER = L.cells_of(ROUTE, L.BOULDER)[0]
WATER = L.cells_of(ROUTE, L.WATER)  # (7,3), (7,4): entered from (7,5) below
TACKLE, SCRATCH = 0x21, 0x0A
OPPOSITE = {"up": "down", "down": "up", "left": "right", "right": "left"}


@pytest.fixture(scope="module")
def states(testworld_rom):
    """Save states: just booted, and standing in ROUTE_2's hall (6,6) facing up."""
    pb = new_pyboy(testworld_rom)
    try:
        tw.boot(pb)
        out = {"boot": save_state(pb)}
        go_to(pb, ROUTE, (6, 6))
        out["route"] = save_state(pb)
        return out
    finally:
        pb.stop(save=False)


def _emulator_at(name: str, state: str):
    """A fixture ``name``: a fresh emulator loaded from ``states[state]``, stopped afterwards."""

    @pytest.fixture(name=name)
    def fixture(testworld_rom, states):
        pyboy = new_pyboy(testworld_rom)
        pyboy.load_state(io.BytesIO(states[state]))
        yield pyboy
        pyboy.stop(save=False)

    return fixture


pb = _emulator_at("pb", "boot")
route = _emulator_at("route", "route")


def set_event(pyboy, name) -> None:
    addr, bit = tw.event_bit(name)
    pyboy.memory[addr] |= 1 << bit


def set_moves(pyboy, mon: int, moves) -> None:
    base = C.PARTY_MON1_MOVES + mon * C.PARTY_MON_STRIDE
    for i, move in enumerate(moves):
        pyboy.memory[base + i] = move


def menu(pyboy) -> tuple[int, int, int]:
    m = pyboy.memory
    return m[STATE], m[C.CURRENT_MENU_ITEM], m[C.MAX_MENU_ITEM]


def field_moves(pyboy) -> list[int]:
    return list(pyboy.memory[C.FIELD_MOVES:C.FIELD_MOVES + 4])


def tile_map(pyboy) -> np.ndarray:
    return np.array(pyboy.memory[C.TILE_MAP:C.TILE_MAP + C.TILE_MAP_WIDTH * C.TILE_MAP_HEIGHT], np.uint8).reshape(
        C.TILE_MAP_HEIGHT, C.TILE_MAP_WIDTH)


def front_tile(pyboy) -> int:
    """The wTileMap byte Red's GetTileAndCoordsInFrontOfPlayer reads for the current facing."""
    col, row = {
        tw.FACING_DOWN: (C.FRONT_TILE_DOWN_COL, C.FRONT_TILE_DOWN_ROW),
        tw.FACING_UP: (C.FRONT_TILE_UP_COL, C.FRONT_TILE_UP_ROW),
        tw.FACING_LEFT: (C.FRONT_TILE_LEFT_COL, C.FRONT_TILE_LEFT_ROW),
        tw.FACING_RIGHT: (C.FRONT_TILE_RIGHT_COL, C.FRONT_TILE_RIGHT_ROW),
    }[pyboy.memory[C.PLAYER_FACING]]
    return int(tile_map(pyboy)[row, col])


def expected_tile_map(room_name: str, xy, kinds) -> np.ndarray:
    """The player-centred view computed in Python from a 10x9 grid of tile kinds."""
    tileset = L.room(room_name).tileset
    by_kind = {v: TILE_MAP_IDS[k] for k, v in KINDS.items()}
    if tileset == C.TILESET_GYM:
        by_kind[KINDS["CUT_TREE"]] = C.CUT_TREE_TILE_GYM
    out = np.zeros((C.TILE_MAP_HEIGHT, C.TILE_MAP_WIDTH), np.uint8)
    for row in range(C.TILE_MAP_HEIGHT):
        for col in range(C.TILE_MAP_WIDTH):
            x, y = xy[0] + (col - 8) // 2, xy[1] + (row - 8) // 2
            inside = 0 <= x < L.SCREEN_STEPS_W and 0 <= y < L.SCREEN_STEPS_H
            out[row, col] = by_kind[kinds[y * L.SCREEN_STEPS_W + x] if inside else KINDS["VOID"]]
    return out


def live_kinds(pyboy) -> list[int]:
    return list(pyboy.memory[PRIVATE_RAM["wRoomKind"]:PRIVATE_RAM["wRoomKind"] + L.SCREEN_STEPS_W * L.SCREEN_STEPS_H])


def screen(pyboy) -> np.ndarray:
    pyboy.tick(1, render=True)
    return np.asarray(pyboy.screen.ndarray)[:, :, :3].copy()


# ------------------------------------------------------------------------------------------ boot
def test_boot_gives_the_starter_red_moves_and_the_room_its_tileset(pb):
    m = pb.memory
    assert list(m[C.PARTY_MON1_MOVES:C.PARTY_MON1_MOVES + 4]) == list(tw.STARTER_MOVES) == [SCRATCH, 0x2D, 0, 0]
    assert m[C.CUR_MAP_TILESET] == tw.room(tw.START_ROOM).tileset
    assert m[STATE] == STATES["IDLE"] and m[C.WALK_BIKE_SURF_STATE] == 0 and m[C.STATUS_FLAGS1] == 0


def test_rooms_use_red_tilesets():
    outdoor = {"PALLET_TOWN", "ROUTE_1", "VIRIDIAN_CITY", "ROUTE_2"}
    for r in tw.ROOMS:
        if r.name in outdoor:
            assert r.tileset == C.TILESET_OVERWORLD, r.name
        elif r.name in ("PEWTER_GYM", "CHAMPIONS_ROOM", "HALL_OF_FAME"):  # GYM in Red's map headers
            assert r.tileset == C.TILESET_GYM, r.name
        else:
            assert r.tileset not in (C.TILESET_OVERWORLD, C.TILESET_GYM), r.name


def test_find_path_treats_trees_water_and_boulders_as_solid():
    for cell in (TREE, BOULDER, *WATER):
        assert not L.is_walkable(ROUTE, cell)
    with pytest.raises(L.LayoutError, match="no path"):
        L.find_path(ROUTE, (TREE[0], TREE[1] + 1), ROUTE, (TREE[0], TREE[1] - 1))
    assert L.find_path(ROUTE, (TREE[0], TREE[1] + 1), ROUTE, (TREE[0], TREE[1] - 1),
                       passable=[(ROUTE, TREE)]) == ["up", "up"]
    assert L.find_path(tw.START_ROOM, tw.START_XY, ROUTE, (6, 7))  # the room is reachable from the start


# ------------------------------------------------------------------------------------------ start menu
def test_start_menu_opens_wraps_and_remembers_the_item(pb):
    m = pb.memory
    top = C.START_MENU_ITEMS_WITH_POKEDEX - 2  # no Pokedex yet: 6 items, POKEMON is item 0, EXIT item 5
    count = top + 1  # as in Red, MAX_MENU_ITEM holds the start menu's item count
    press(pb, "start")
    assert menu(pb) == (STATES["START_MENU"], 0, count) and m[C.JOY_IGNORE] == 0
    for expected in list(range(1, top + 1)) + [0]:
        press(pb, "down")
        assert menu(pb) == (STATES["START_MENU"], expected, count)
        assert m[C.START_MENU_SAVED_ITEM] == expected and m[C.JOY_IGNORE] == 0
    press(pb, "up")  # 0 -> wraps to the last item
    assert m[C.CURRENT_MENU_ITEM] == top == m[C.START_MENU_SAVED_ITEM]
    press(pb, "up")
    press(pb, "up")
    assert m[C.CURRENT_MENU_ITEM] == top - 2
    press(pb, "b")
    assert m[STATE] == STATES["IDLE"] and m[C.JOY_IGNORE] == 0
    where = position(pb)
    press(pb, "start")  # reopens on the saved item
    assert menu(pb) == (STATES["START_MENU"], top - 2, count)
    press(pb, "down")  # the d-pad moves the cursor, not the player
    assert position(pb) == where and m[C.PLAYER_FACING] == tw.START_FACING
    press(pb, "start")  # START closes it too
    assert m[STATE] == STATES["IDLE"]
    press(pb, "right")
    assert position(pb)[1] == (where[1][0] + 1, where[1][1])  # walking again


def test_start_menu_with_the_pokedex_has_seven_items_and_clamps_the_saved_item(pb):
    m = pb.memory
    seven = C.START_MENU_ITEMS_WITH_POKEDEX
    m[C.START_MENU_SAVED_ITEM] = seven - 1  # EXIT of the 7-item menu
    press(pb, "start")
    assert menu(pb) == (STATES["START_MENU"], seven - 2, seven - 1)  # clamped to the 6-item menu's EXIT
    press(pb, "b")
    set_event(pb, "EVENT_GOT_POKEDEX")
    press(pb, "start")
    assert menu(pb) == (STATES["START_MENU"], seven - 2, seven)
    press(pb, "down")
    assert m[C.CURRENT_MENU_ITEM] == seven - 1  # EXIT, the seventh item
    press(pb, "down")
    assert m[C.CURRENT_MENU_ITEM] == 0  # wrapped: POKEDEX
    press(pb, "a")  # A on POKEDEX: a no-op that closes the menu
    assert m[STATE] == STATES["IDLE"] and m[C.JOY_IGNORE] == 0
    press(pb, "start")
    assert m[C.CURRENT_MENU_ITEM] == 0
    press(pb, "down")
    press(pb, "a")  # POKEMON is item 1 with the Pokedex
    assert m[STATE] == STATES["PARTY_MENU"]


# ------------------------------------------------------------------------------------------ party menu
def test_party_menu_follows_the_party_count_and_b_returns_to_the_start_menu(pb):
    m = pb.memory
    m[C.PARTY_COUNT] = 3
    press(pb, "start")
    press(pb, "a")  # POKEMON (item 0 without the Pokedex)
    assert menu(pb) == (STATES["PARTY_MENU"], 0, 2) and m[C.JOY_IGNORE] == 0
    for expected in (1, 2, 0):
        press(pb, "down")
        assert m[C.CURRENT_MENU_ITEM] == expected
    press(pb, "up")
    assert m[C.CURRENT_MENU_ITEM] == 2
    press(pb, "b")
    assert menu(pb) == (STATES["START_MENU"], 0, C.START_MENU_ITEMS_WITH_POKEDEX - 1)
    m[C.PARTY_COUNT] = 6  # read live when the party menu opens
    press(pb, "a")
    assert m[STATE] == STATES["PARTY_MENU"] and m[C.MAX_MENU_ITEM] == 5
    assert m[C.CURRENT_MENU_ITEM] in (0, 2)  # 0, or the saved party-menu item (the contract allows both)
    close_menus(pb)
    assert m[STATE] == STATES["IDLE"]


def test_field_move_list_follows_the_move_slots(pb):
    m = pb.memory
    m[C.PARTY_COUNT] = 4
    set_moves(pb, 1, (C.MOVE_STRENGTH, C.MOVE_FLASH, C.MOVE_CUT, C.MOVE_FLY))
    set_moves(pb, 2, (TACKLE, C.MOVE_SURF, C.MOVE_CUT, 0))
    set_moves(pb, 3, (C.MOVE_DIG, C.MOVE_TELEPORT, C.MOVE_SOFTBOILED, TACKLE))
    cases = [
        (2, [C.FIELD_MOVE_SURF, C.FIELD_MOVE_CUT, 0, 0]),
        (0, [0, 0, 0, 0]),  # SCRATCH, GROWL
        (1, [C.FIELD_MOVE_STRENGTH, C.FIELD_MOVE_FLASH, C.FIELD_MOVE_CUT, C.FIELD_MOVE_FLY]),
        (3, [C.FIELD_MOVE_DIG, C.FIELD_MOVE_TELEPORT, C.FIELD_MOVE_SOFTBOILED, 0]),
    ]
    press(pb, "start")
    press(pb, "a")
    for mon, expected in cases:
        m[C.FIELD_MOVES:C.FIELD_MOVES + 4] = [0xEE] * 4  # stale bytes must be overwritten
        select_item(pb, mon)
        press(pb, "a")
        count = sum(1 for f in expected if f)
        assert m[C.WHICH_POKEMON] == mon
        assert field_moves(pb) == expected and m[C.NUM_FIELD_MOVES] == count
        assert menu(pb) == (STATES["FIELD_MENU"], 0, count + 2) and m[C.JOY_IGNORE] == 0
        press(pb, "up")
        assert m[C.CURRENT_MENU_ITEM] == count + 2  # wrapped to CANCEL
        press(pb, "up")  # SWITCH
        press(pb, "a")  # STATS/SWITCH: nothing happens, the submenu stays
        assert menu(pb) == (STATES["FIELD_MENU"], count + 1, count + 2)
        press(pb, "up")
        press(pb, "a")  # STATS
        assert menu(pb) == (STATES["FIELD_MENU"], count, count + 2)
        press(pb, "down")
        press(pb, "down")
        press(pb, "a")  # CANCEL: back to the party menu
        assert m[STATE] == STATES["PARTY_MENU"] and m[C.MAX_MENU_ITEM] == 3
    select_item(pb, 2)
    press(pb, "a")
    press(pb, "b")  # B leaves the submenu too
    assert m[STATE] == STATES["PARTY_MENU"]


def test_a_field_move_this_world_has_no_use_for_closes_the_menus(pb):
    m = pb.memory
    set_moves(pb, 0, (C.MOVE_FLY, 0, 0, 0))
    tw.use_field_move(pb, C.FIELD_MOVE_FLY)
    assert m[STATE] == STATES["IDLE"] and m[C.JOY_IGNORE] == 0
    with pytest.raises(DriveError, match="no field move"):
        tw.use_field_move(pb, C.FIELD_MOVE_CUT)
    assert m[STATE] == STATES["IDLE"]


def test_menus_show_on_screen_with_the_window(pb):
    base = screen(pb)
    press(pb, "start")
    opened = screen(pb)
    assert pb.memory[0xFF40] & 0x20  # LCDC: window on
    assert (opened != base).any()
    press(pb, "down")
    moved = screen(pb)
    assert (moved != opened).any()  # the cursor moved
    press(pb, "a")  # (item 1: ITEM) closes the menu
    assert np.array_equal(screen(pb), base) and not pb.memory[0xFF40] & 0x20
    press(pb, "start")
    press(pb, "up")  # back to POKEMON
    press(pb, "a")
    party = screen(pb)
    press(pb, "a")
    assert (screen(pb) != party).any()  # the submenu differs from the party menu


# ------------------------------------------------------------------------------------------ Cut
def test_cut_needs_the_badge_and_opens_the_way_until_the_room_is_reentered(route):
    m = route.memory
    set_moves(route, 0, (SCRATCH, C.MOVE_CUT, 0, 0))
    direction = face(route, ROUTE, TREE)
    where = position(route)
    assert front_tile(route) == C.CUT_TREE_TILE_OVERWORLD
    tw.use_field_move(route, C.FIELD_MOVE_CUT, frames=4)  # no Cascade badge
    assert m[STATE] == STATES["DIALOG"] and m[C.JOY_IGNORE] == 0xFF
    tw.wait_until(route, lambda mem: mem[C.JOY_IGNORE] == 0, 60, "the end of the dialog")
    assert m[STATE] == STATES["IDLE"] and front_tile(route) == C.CUT_TREE_TILE_OVERWORLD
    press(route, direction)
    assert position(route) == where  # still blocked
    m[C.OBTAINED_BADGES] = 1 << C.BIT_CASCADEBADGE
    tw.use_field_move(route, C.FIELD_MOVE_CUT, frames=4)
    assert m[STATE] == STATES["DIALOG"] and m[C.JOY_IGNORE] == 0xFF
    tw.wait_until(route, lambda mem: mem[C.JOY_IGNORE] == 0, 60, "the end of the dialog")
    assert front_tile(route) == TILE_MAP_IDS["FLOOR"]
    idx = TREE[1] * L.SCREEN_STEPS_W + TREE[0]
    assert m[PRIVATE_RAM["wRoomKind"] + idx] == KINDS["FLOOR"]
    assert m[0x9800 + 64 * TREE[1] + 2 * TREE[0]] == KINDS["FLOOR"] * 4  # redrawn as floor
    press(route, direction)
    assert position(route) == (ROUTE, TREE)
    press(route, direction)
    assert position(route) == (ROUTE, (TREE[0], TREE[1] - 1))  # the pocket beyond
    # Cut again with nothing in front: a dialog, nothing changes.
    kinds = live_kinds(route)
    tw.use_field_move(route, C.FIELD_MOVE_CUT)
    tw.wait_until(route, lambda mem: mem[C.JOY_IGNORE] == 0, 60, "the end of the dialog")
    assert live_kinds(route) == kinds
    # Leave and come back: the tree has grown again.
    go_to(route, ROUTE, (6, 7), passable=[(ROUTE, TREE)])
    press(route, "down")
    assert position(route)[0] == "VIRIDIAN_CITY"
    go_to(route, ROUTE, where[1])
    press(route, direction)
    assert position(route) == where and front_tile(route) == C.CUT_TREE_TILE_OVERWORLD


# ------------------------------------------------------------------------------------------ Surf
def test_surf_needs_the_badge_and_water_in_front_then_land_ends_it(route):
    m = route.memory
    set_moves(route, 0, (C.MOVE_SURF, SCRATCH, 0, 0))
    m[C.OBTAINED_BADGES] = 1 << C.BIT_SOULBADGE
    go_to(route, ROUTE, (5, 5))
    press(route, "up")  # a wall
    tw.use_field_move(route, C.FIELD_MOVE_SURF)  # not facing water
    tw.wait_until(route, lambda mem: mem[C.JOY_IGNORE] == 0, 60, "the end of the dialog")
    assert m[C.WALK_BIKE_SURF_STATE] == 0
    lower, upper = sorted(WATER, key=lambda xy: -xy[1])
    direction = face(route, ROUTE, lower)
    where = position(route)
    assert front_tile(route) == C.WATER_TILE
    press(route, direction)
    assert position(route) == where  # water blocks on foot
    m[C.OBTAINED_BADGES] = 0
    tw.use_field_move(route, C.FIELD_MOVE_SURF)  # no Soul badge
    tw.wait_until(route, lambda mem: mem[C.JOY_IGNORE] == 0, 60, "the end of the dialog")
    assert m[C.WALK_BIKE_SURF_STATE] == 0
    m[C.OBTAINED_BADGES] = 1 << C.BIT_SOULBADGE
    tw.use_field_move(route, C.FIELD_MOVE_SURF, frames=4)
    assert m[C.WALK_BIKE_SURF_STATE] == C.SURF_STATE_SURFING and m[STATE] == STATES["DIALOG"]
    tw.wait_until(route, lambda mem: mem[C.JOY_IGNORE] == 0, 60, "the end of the dialog")
    press(route, direction)
    assert position(route) == (ROUTE, lower) and m[C.WALK_BIKE_SURF_STATE] == C.SURF_STATE_SURFING
    press(route, direction)
    assert position(route) == (ROUTE, upper) and m[C.WALK_BIKE_SURF_STATE] == C.SURF_STATE_SURFING
    assert tile_map(route)[8, 8] == C.WATER_TILE  # standing on water
    press(route, "up")  # onto land: surfing ends
    assert position(route) == (ROUTE, (upper[0], upper[1] - 1)) and m[C.WALK_BIKE_SURF_STATE] == 0
    press(route, "down")  # water blocks again
    assert position(route) == (ROUTE, (upper[0], upper[1] - 1))
    assert front_tile(route) == C.WATER_TILE


def test_surf_state_lets_the_player_back_onto_land_below(route):
    m = route.memory
    lower = max(WATER, key=lambda xy: xy[1])
    direction = face(route, ROUTE, lower)
    m[C.WALK_BIKE_SURF_STATE] = C.SURF_STATE_SURFING  # tests may set it directly
    press(route, direction)
    assert position(route) == (ROUTE, lower)
    press(route, OPPOSITE[direction])
    assert m[C.WALK_BIKE_SURF_STATE] == 0


# ------------------------------------------------------------------------------------------ Strength
def test_strength_pushes_the_boulder_onto_floor_and_blocks_without_it(route):
    m = route.memory
    direction = face(route, ROUTE, BOULDER)
    where = position(route)
    press(route, direction)
    assert position(route) == where  # no Strength: it blocks
    set_moves(route, 0, (C.MOVE_STRENGTH, 0, 0, 0))
    tw.use_field_move(route, C.FIELD_MOVE_STRENGTH)  # no Rainbow badge
    tw.wait_until(route, lambda mem: mem[C.JOY_IGNORE] == 0, 60, "the end of the dialog")
    assert not m[C.STATUS_FLAGS1] >> C.BIT_STRENGTH_ACTIVE & 1
    m[C.OBTAINED_BADGES] = 1 << C.BIT_RAINBOWBADGE
    tw.use_field_move(route, C.FIELD_MOVE_STRENGTH, frames=4)
    assert m[C.STATUS_FLAGS1] >> C.BIT_STRENGTH_ACTIVE & 1 and m[STATE] == STATES["DIALOG"]
    tw.wait_until(route, lambda mem: mem[C.JOY_IGNORE] == 0, 60, "the end of the dialog")
    dx, dy, facing = L.DIRECTIONS[direction]
    beyond = (BOULDER[0] + dx, BOULDER[1] + dy)
    route.button(direction, 8)
    route.tick(6, render=False)
    assert m[STATE] == STATES["PUSH"] and m[C.JOY_IGNORE] == 0xFF and m[C.WALK_COUNTER] == 0
    tw.wait_until(route, lambda mem: mem[C.JOY_IGNORE] == 0, 60, "the end of the push")
    route.tick(12, render=False)
    kinds = live_kinds(route)
    assert kinds[BOULDER[1] * 10 + BOULDER[0]] == KINDS["FLOOR"]
    assert kinds[beyond[1] * 10 + beyond[0]] == KINDS["BOULDER"]
    assert position(route) == where and m[C.PLAYER_FACING] == facing  # the player stays, facing it
    assert np.array_equal(tile_map(route), expected_tile_map(ROUTE, where[1], kinds))
    assert m[0x9800 + 64 * beyond[1] + 2 * beyond[0]] == KINDS["BOULDER"] * 4  # redrawn
    press(route, direction)  # into the boulder's old cell
    assert position(route) == (ROUTE, BOULDER)
    press(route, direction)  # and push it once more, onto the floor beyond
    tw.wait_until(route, lambda mem: mem[C.JOY_IGNORE] == 0 and mem[STATE] == STATES["IDLE"], 60, "the push")
    assert live_kinds(route)[(beyond[1] + dy) * 10 + beyond[0] + dx] == KINDS["BOULDER"]
    # Leaving the room clears Strength and puts the boulder back.
    go_to(route, ROUTE, (6, 7))
    press(route, "down")
    assert position(route)[0] == "VIRIDIAN_CITY"
    assert not m[C.STATUS_FLAGS1] >> C.BIT_STRENGTH_ACTIVE & 1
    go_to(route, ROUTE, where[1])
    assert live_kinds(route)[BOULDER[1] * 10 + BOULDER[0]] == KINDS["BOULDER"]
    press(route, direction)
    assert position(route) == where


def test_a_boulder_with_a_wall_beyond_does_not_move(route):
    m = route.memory
    m[C.STATUS_FLAGS1] |= 1 << C.BIT_STRENGTH_ACTIVE
    face(route, ROUTE, BOULDER)
    press(route, "up")  # pushed once: now at (4,3), the player still at (4,5)
    tw.wait_until(route, lambda mem: mem[STATE] == STATES["IDLE"], 60, "the push")
    press(route, "up")  # step into (4,4)
    press(route, "up")  # push to (4,2)
    press(route, "up")  # step into (4,3)
    press(route, "up")  # push to (4,1)
    press(route, "up")  # step into (4,2)
    before = live_kinds(route)
    press(route, "up")  # the wall at (4,0) is beyond: it blocks
    assert m[STATE] == STATES["IDLE"] and live_kinds(route) == before
    assert position(route) == (ROUTE, (4, 2)) and before[1 * 10 + 4] == KINDS["BOULDER"]


# ------------------------------------------------------------------------------------------ wTileMap
@pytest.mark.parametrize("room_name,xy", [
    ("REDS_HOUSE_2F", (2, 3)), ("PALLET_TOWN", (1, 1)), ("PEWTER_GYM", (5, 7)), ("ROUTE_2", (8, 7)),
])
def test_tile_map_is_the_player_centred_view(pb, room_name, xy):
    go_to(pb, room_name, xy)
    assert pb.memory[C.CUR_MAP_TILESET] == tw.room(room_name).tileset
    assert np.array_equal(tile_map(pb), expected_tile_map(room_name, xy, live_kinds(pb)))


def test_tile_map_shows_red_tree_and_water_ids_in_front(route):
    face(route, ROUTE, TREE)
    view = tile_map(route)
    assert (view[6:8, 8:10] == C.CUT_TREE_TILE_OVERWORLD).all()  # the cell above: all four tiles
    assert front_tile(route) == C.CUT_TREE_TILE_OVERWORLD
    face(route, ROUTE, max(WATER, key=lambda xy: xy[1]))
    assert front_tile(route) == C.WATER_TILE and (tile_map(route)[4:8, 8:10] == C.WATER_TILE).all()
    others = {v for k, v in TILE_MAP_IDS.items() if k not in ("CUT_TREE", "WATER")}
    assert not others & {C.CUT_TREE_TILE_OVERWORLD, C.CUT_TREE_TILE_GYM, C.WATER_TILE, 0x52,
                         C.WATER_SHORE_TILE_1, C.WATER_SHORE_TILE_2}


def test_tile_map_uses_the_gym_tree_id_in_a_gym_room(pb):
    """Only the tileset decides the tree id: a tree written into the gym's room grid shows as 0x50."""
    go_to(pb, "PEWTER_GYM", (3, 4))
    m = pb.memory
    m[PRIVATE_RAM["wRoomKind"] + 4 * 10 + 4] = KINDS["CUT_TREE"]  # right of the player
    press(pb, "left")  # the mirror is rewritten when a walk ends: step away and back
    press(pb, "right")
    assert position(pb) == ("PEWTER_GYM", (3, 4))
    assert front_tile(pb) == C.CUT_TREE_TILE_GYM
