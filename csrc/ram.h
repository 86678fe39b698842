// Typed decode of one env's WRAM (Game Boy 0xC000..0xDFFF, 8192 bytes, index = addr - 0xC000).
// Every address comes from red_constants.h. Derived counts (event bits, levels, HP sums) are computed
// once here so observations, rewards and info all read the same numbers.
#pragma once
#include <cstdint>
#include <cstring>

#include "red_constants.h"

namespace pokerl {

constexpr int WRAM_BASE = red::WRAM_BASE;
constexpr int WRAM_SIZE = red::WRAM_SIZE;
constexpr int DEX_SPECIES = 151;

inline uint8_t wram_at(const uint8_t* wram, int addr) { return wram[addr - WRAM_BASE]; }

inline int popcount8(uint8_t v) { return __builtin_popcount(v); }

// Count set bits of `n` bytes (n small: events, dex, badges).
inline int popcount_bytes(const uint8_t* p, int n) {
    int total = 0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        total += __builtin_popcountll(w);
    }
    for (; i < n; ++i) total += popcount8(p[i]);
    return total;
}

struct RamState {
    uint8_t map, x, y, facing, badges;
    uint8_t party_count;  // the filled slots of wPartyCount's (party_slot_filled); slots beyond are zero below
    uint8_t species[red::PARTY_MAX];
    uint8_t levels[red::PARTY_MAX];
    uint16_t hp[red::PARTY_MAX];      // big-endian in RAM
    uint16_t max_hp[red::PARTY_MAX];  // big-endian in RAM
    uint8_t in_battle;                // raw wIsInBattle: 0 none, 1 wild, 2 trainer, 0xFF lost
    uint8_t cur_opponent;             // raw wCurOpponent: a wild species id, or OPP_ID_OFFSET + trainer class
    uint16_t enemy_hp;                // wEnemyMonHP, big-endian in RAM; Red zeroes it when the enemy mon faints
    int32_t money;                    // 3-byte BCD decoded (nibbles taken as they are, even if > 9)
    uint8_t num_bag_items;            // items decoded: min(wNumBagItems, 20), stopping early at an 0xFF id
    uint8_t bag_ids[red::BAG_MAX_ITEMS];
    uint8_t bag_qty[red::BAG_MAX_ITEMS];
    uint8_t events[red::EVENT_FLAGS_BYTES];
    uint8_t dex_owned[red::POKEDEX_BYTES];
    uint8_t dex_seen[red::POKEDEX_BYTES];
    uint8_t joy_ignore, walk_counter;

    // Derived once per decode.
    int32_t badge_count;
    int32_t event_count;     // set bits over all event flag bytes
    int32_t required_count;  // required events set
    int32_t level_sum;       // over the party (first party_count slots)
    int32_t hp_sum, max_hp_sum;
    int32_t dex_owned_count, dex_seen_count;
};

inline int32_t decode_bcd3(const uint8_t* p) {
    int32_t v = 0;
    for (int i = 0; i < 3; ++i) v = v * 100 + (p[i] >> 4) * 10 + (p[i] & 0x0F);
    return v;
}

inline int32_t count_required_events(const uint8_t* wram) {
    int32_t n = 0;
    for (int i = 0; i < red::NUM_REQUIRED_EVENTS; ++i)
        n += (wram_at(wram, red::REQUIRED_EVENT_ADDR[i]) >> red::REQUIRED_EVENT_BIT[i]) & 1;
    return n;
}

// Whether party slot i holds a whole mon: its struct's species is the party list's and it has stats (max HP).
// Red's AddPartyMon raises wPartyCount and writes the species list, then asks for a nickname (YES/NO, and the
// naming screen: many steps), and only then fills the mon's struct; until then the slot is not a mon yet.
inline bool party_slot_filled(const uint8_t* wram, int i) {
    const int o = i * red::PARTY_MON_STRIDE;
    return wram_at(wram, red::PARTY_MON1_SPECIES + o) == wram_at(wram, red::PARTY_SPECIES + i) &&
           (wram_at(wram, red::PARTY_MON1_MAX_HP + o) | wram_at(wram, red::PARTY_MON1_MAX_HP + o + 1)) != 0;
}

inline void decode_ram(const uint8_t* wram, RamState& s) {
    s.map = wram_at(wram, red::CUR_MAP);
    s.x = wram_at(wram, red::X_COORD);
    s.y = wram_at(wram, red::Y_COORD);
    s.facing = wram_at(wram, red::PLAYER_FACING);
    s.badges = wram_at(wram, red::OBTAINED_BADGES);
    // The party: wPartyCount (at most PARTY_MAX) cut before the first slot that is not filled yet, so a mon
    // being added (its nickname prompt open) joins once it has its stats: not a blackout at 0 HP, not a heal, and
    // its level is where it joins, not a gain.
    const uint8_t pc = wram_at(wram, red::PARTY_COUNT);
    const int listed = pc > red::PARTY_MAX ? red::PARTY_MAX : pc;
    int filled = 0;
    while (filled < listed && party_slot_filled(wram, filled)) ++filled;
    s.party_count = uint8_t(filled);
    s.level_sum = s.hp_sum = s.max_hp_sum = 0;
    for (int i = 0; i < red::PARTY_MAX; ++i) {
        if (i < s.party_count) {
            const int o = i * red::PARTY_MON_STRIDE;
            s.species[i] = wram_at(wram, red::PARTY_SPECIES + i);
            s.levels[i] = wram_at(wram, red::PARTY_MON1_LEVEL + o);
            s.hp[i] = uint16_t(wram_at(wram, red::PARTY_MON1_HP + o) << 8 | wram_at(wram, red::PARTY_MON1_HP + o + 1));
            s.max_hp[i] = uint16_t(wram_at(wram, red::PARTY_MON1_MAX_HP + o) << 8 |
                                   wram_at(wram, red::PARTY_MON1_MAX_HP + o + 1));
        } else {
            s.species[i] = s.levels[i] = 0;
            s.hp[i] = s.max_hp[i] = 0;
        }
        s.level_sum += s.levels[i];
        s.hp_sum += s.hp[i];
        s.max_hp_sum += s.max_hp[i];
    }
    s.in_battle = wram_at(wram, red::IS_IN_BATTLE);
    s.cur_opponent = wram_at(wram, red::CUR_OPPONENT);
    s.enemy_hp = uint16_t(wram_at(wram, red::ENEMY_MON_HP) << 8 | wram_at(wram, red::ENEMY_MON_HP + 1));
    s.money = decode_bcd3(wram + (red::PLAYER_MONEY - WRAM_BASE));

    const uint8_t num = wram_at(wram, red::NUM_BAG_ITEMS);
    const int limit = num > red::BAG_MAX_ITEMS ? red::BAG_MAX_ITEMS : num;
    int n = 0;
    for (; n < limit; ++n) {
        const uint8_t id = wram_at(wram, red::BAG_ITEMS + 2 * n);
        if (id == 0xFF) break;
        s.bag_ids[n] = id;
        s.bag_qty[n] = wram_at(wram, red::BAG_ITEMS + 2 * n + 1);
    }
    s.num_bag_items = uint8_t(n);
    for (int i = n; i < red::BAG_MAX_ITEMS; ++i) s.bag_ids[i] = s.bag_qty[i] = 0;

    std::memcpy(s.events, wram + (red::EVENT_FLAGS - WRAM_BASE), red::EVENT_FLAGS_BYTES);
    std::memcpy(s.dex_owned, wram + (red::POKEDEX_OWNED - WRAM_BASE), red::POKEDEX_BYTES);
    std::memcpy(s.dex_seen, wram + (red::POKEDEX_SEEN - WRAM_BASE), red::POKEDEX_BYTES);
    s.joy_ignore = wram_at(wram, red::JOY_IGNORE);
    s.walk_counter = wram_at(wram, red::WALK_COUNTER);

    s.badge_count = popcount8(s.badges);
    s.event_count = popcount_bytes(s.events, red::EVENT_FLAGS_BYTES);
    s.required_count = count_required_events(wram);
    s.dex_owned_count = popcount_bytes(s.dex_owned, red::POKEDEX_BYTES);
    s.dex_seen_count = popcount_bytes(s.dex_seen, red::POKEDEX_BYTES);
}

inline double clamp01(double v) { return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v); }

// Party HP sum / max HP sum in [0, 1]; 0 for an empty party or zero max HP.
inline double hp_fraction(const RamState& s) {
    return s.max_hp_sum > 0 ? clamp01(double(s.hp_sum) / double(s.max_hp_sum)) : 0.0;
}

// Map completion (explore_boost): true while some event of the player's map in MAP_COMPLETION_EVENTS is unset.
// Maps without events count as finished.
inline bool map_unfinished(const RamState& s) {
    for (int k = red::MAP_COMPLETION_START[s.map]; k < red::MAP_COMPLETION_START[s.map + 1]; ++k)
        if (!((s.events[red::MAP_COMPLETION_ADDR[k] - red::EVENT_FLAGS] >> red::MAP_COMPLETION_BIT[k]) & 1)) return true;
    return false;
}

// What the game is doing, as Red's RAM says: SCENE_FREE (the overworld, the player in control or walking),
// SCENE_TEXT (a text box or a menu is up: DisplayTextIDInit set wFontLoaded's bit) or SCENE_BATTLE (wIsInBattle
// is not 0). Battle wins over text: battle text does not go through DisplayTextID.
enum Scene : int { SCENE_FREE = 0, SCENE_TEXT = 1, SCENE_BATTLE = 2 };

inline int scene_of(const uint8_t* wram) {
    if (wram_at(wram, red::IS_IN_BATTLE) != 0) return SCENE_BATTLE;
    return (wram_at(wram, red::FONT_LOADED) >> red::BIT_FONT_LOADED) & 1 ? SCENE_TEXT : SCENE_FREE;
}

// A fingerprint of what a text box, menu or battle shows (FNV-1a, 64 bits): the screen's tile map wTileMap with
// the blinking "more text" arrow's cell read as blank, then the menu cursor and both battle HP values. It changes
// when text advances or scrolls, a cursor moves, a menu opens or closes, or HP changes; not while the game only
// waits for a press.
inline uint64_t scene_fingerprint(const uint8_t* wram) {
    constexpr uint64_t FNV_OFFSET = 1469598103934665603ull, FNV_PRIME = 1099511628211ull;
    constexpr int cells = red::TILE_MAP_WIDTH * red::TILE_MAP_HEIGHT;
    constexpr int arrow = red::TEXT_ARROW_ROW * red::TILE_MAP_WIDTH + red::TEXT_ARROW_COL;
    uint64_t h = FNV_OFFSET;
    auto mix = [&h](uint8_t b) { h = (h ^ b) * FNV_PRIME; };
    const uint8_t* tiles = wram + (red::TILE_MAP - WRAM_BASE);
    for (int k = 0; k < cells; ++k) mix(k == arrow ? 0 : tiles[k]);
    mix(wram_at(wram, red::CURRENT_MENU_ITEM));
    for (int k = 0; k < 2; ++k) {
        mix(wram_at(wram, red::BATTLE_MON_HP + k));
        mix(wram_at(wram, red::ENEMY_MON_HP + k));
    }
    return h;
}

// The game is beaten: the player stands in the Hall of Fame with the champion beaten (EVENT_BEAT_CHAMPION_RIVAL).
// Red's HallOfFame script records the team, clears the Elite Four's and the champion's events (ResetEventRange),
// saves and restarts the game from its title screen: entering the room is the game's end.
inline bool game_beaten(const uint8_t* wram) {
    return wram_at(wram, red::CUR_MAP) == red::MAP_HALL_OF_FAME &&
           ((wram_at(wram, red::EVENT_BEAT_CHAMPION_RIVAL_ADDR) >> red::EVENT_BEAT_CHAMPION_RIVAL_BIT) & 1);
}

// True when the game polls the joypad for a new step: no input lock and no walk in progress.
// Called inside the emulator's per-frame loop, so it reads two bytes and nothing else.
inline bool ready_for_input(const uint8_t* wram) {
    return wram_at(wram, red::JOY_IGNORE) == 0 && wram_at(wram, red::WALK_COUNTER) == 0;
}

}  // namespace pokerl
