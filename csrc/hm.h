// Auto-use of field moves (HMs): decide from WRAM alone whether the player is facing something an HM
// in the party clears, and which menu entries lead to it. The bridge (_emu.pyx) then drives Red's own
// menus with button presses (START -> POKEMON -> the mon -> the move), checking RAM after every press.
//
// Everything is read the way Red reads it:
//   - the tile in front of the player is the bottom-left tile of the faced 2x2 cell in wTileMap
//     (Red's GetTileAndCoordsInFrontOfPlayer); Cut and Surf test that one tile;
//   - Cut clears tree tile 0x3D in the OVERWORLD tileset and 0x50 in GYM (UsedCut);
//   - Surf accepts water 0x14, and shore tiles 0x32/0x48 outside SHIP_PORT, in the water tilesets
//     (IsNextTileShoreOrWater); not while already surfing;
//   - each move needs its badge (StartMenu_Pokemon: Cut Cascade, Surf Soul, Strength Rainbow);
//   - the field-move submenu lists a mon's field moves in move-slot order (GetMonFieldMoves).
// Strength needs no menu: using it only sets BIT_STRENGTH_ACTIVE in wStatusFlags1, which
// strength_ready() tells the bridge to set directly.
#pragma once
#include <cstdint>

#include "ram.h"

namespace pokerl {

enum HmKind : int { HM_NONE = 0, HM_CUT = 1, HM_SURF = 2 };

struct HmPlan {
    int kind = HM_NONE;
    int party_index = -1;      // party menu entry: the first mon that knows the move
    int field_move = 0;        // FIELD_MOVE_* name index to find in wFieldMoves
    int start_menu_item = 0;   // POKEMON's index in the start menu (1 with the Pokedex, else 0)
};

// Party slot of the first mon (below wPartyCount) knowing `move`, or -1.
inline int party_mon_with_move(const uint8_t* wram, int move) {
    int count = wram_at(wram, red::PARTY_COUNT);
    if (count > red::PARTY_MAX) count = red::PARTY_MAX;
    for (int i = 0; i < count; ++i) {
        const int base = red::PARTY_MON1_MOVES + i * red::PARTY_MON_STRIDE;
        for (int slot = 0; slot < 4; ++slot)
            if (wram_at(wram, base + slot) == move) return i;
    }
    return -1;
}

inline bool has_badge(const uint8_t* wram, int bit) { return (wram_at(wram, red::OBTAINED_BADGES) >> bit) & 1; }

// Bottom-left tile of the cell the player faces; -1 for an unknown facing value.
inline int front_tile(const uint8_t* wram) {
    int col, row;
    switch (wram_at(wram, red::PLAYER_FACING)) {
        case 0x0: col = red::FRONT_TILE_DOWN_COL; row = red::FRONT_TILE_DOWN_ROW; break;
        case 0x4: col = red::FRONT_TILE_UP_COL; row = red::FRONT_TILE_UP_ROW; break;
        case 0x8: col = red::FRONT_TILE_LEFT_COL; row = red::FRONT_TILE_LEFT_ROW; break;
        case 0xC: col = red::FRONT_TILE_RIGHT_COL; row = red::FRONT_TILE_RIGHT_ROW; break;
        default: return -1;
    }
    return wram_at(wram, red::TILE_MAP + row * red::TILE_MAP_WIDTH + col);
}

inline bool is_cut_tree(int tileset, int tile) {
    return (tileset == red::TILESET_OVERWORLD && tile == red::CUT_TREE_TILE_OVERWORLD) ||
           (tileset == red::TILESET_GYM && tile == red::CUT_TREE_TILE_GYM);
}

inline bool is_surfable(int tileset, int tile) {
    if (tileset < 0 || tileset > 31 || !((red::WATER_TILESETS_MASK >> tileset) & 1)) return false;
    if (tile == red::WATER_TILE) return true;
    return tileset != red::TILESET_SHIP_PORT && (tile == red::WATER_SHORE_TILE_1 || tile == red::WATER_SHORE_TILE_2);
}

// Joypad direction bit (RIGHT 1, LEFT 2, UP 4, DOWN 8, as in the bridge's masks) for a facing value.
inline uint8_t facing_dpad_bit(uint8_t facing) {
    switch (facing) {
        case 0x0: return 0x8;
        case 0x4: return 0x4;
        case 0x8: return 0x2;
        case 0xC: return 0x1;
        default: return 0;
    }
}

// What to use, if anything, after a step whose d-pad mask was `dmask`. Only when the agent pushed
// toward the obstacle it faces (so an idle agent standing next to a tree never pays for the menus),
// the game is waiting for input outside battle, and the party can and may use the move.
inline HmPlan plan_hm(const uint8_t* wram, uint8_t dmask) {
    HmPlan plan;
    const uint8_t facing = wram_at(wram, red::PLAYER_FACING);
    if (dmask == 0 || dmask != facing_dpad_bit(facing)) return plan;
    if (!ready_for_input(wram) || wram_at(wram, red::IS_IN_BATTLE) != 0) return plan;
    const int tile = front_tile(wram);
    const int tileset = wram_at(wram, red::CUR_MAP_TILESET);
    int move = 0, field_move = 0;
    if (is_cut_tree(tileset, tile) && has_badge(wram, red::BIT_CASCADEBADGE)) {
        plan.kind = HM_CUT; move = red::MOVE_CUT; field_move = red::FIELD_MOVE_CUT;
    } else if (is_surfable(tileset, tile) && has_badge(wram, red::BIT_SOULBADGE) &&
               wram_at(wram, red::WALK_BIKE_SURF_STATE) != red::SURF_STATE_SURFING) {
        plan.kind = HM_SURF; move = red::MOVE_SURF; field_move = red::FIELD_MOVE_SURF;
    } else {
        return plan;
    }
    plan.party_index = party_mon_with_move(wram, move);
    if (plan.party_index < 0) return HmPlan{};
    plan.field_move = field_move;
    const auto pokedex = red::EVENT_GOT_POKEDEX_ADDR;
    plan.start_menu_item = (wram_at(wram, pokedex) >> red::EVENT_GOT_POKEDEX_BIT) & 1;
    return plan;
}

// Strength: a mon knows it and the Rainbow badge is owned (then BIT_STRENGTH_ACTIVE may be set).
inline bool strength_ready(const uint8_t* wram) {
    return has_badge(wram, red::BIT_RAINBOWBADGE) && party_mon_with_move(wram, red::MOVE_STRENGTH) >= 0;
}

}  // namespace pokerl
