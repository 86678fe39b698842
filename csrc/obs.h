// Observations of one env: the downsampled screen, the visited mask around the player, RAM features, map id.
// Screen and visited mask are 72 x 80 shades (0 lightest .. 3 darkest) packed 2 bits per pixel,
// 4 pixels per byte, first pixel in the high bits -> 72 x 20 bytes.
#pragma once
#include <cstdint>
#include <cstring>

#include "explore.h"
#include "ram.h"

namespace pokerl {

constexpr int SCREEN_H = red::SCREEN_H, SCREEN_W = red::SCREEN_W, SCREEN_CHANNELS = red::SCREEN_CHANNELS;
constexpr int OBS_H = red::OBS_H, OBS_W = red::OBS_W, OBS_PACKED_W = red::OBS_PACKED_W;
static_assert(2 * OBS_H == SCREEN_H && 2 * OBS_W == SCREEN_W && 4 * OBS_PACKED_W == OBS_W, "half size, 4 px a byte");
constexpr int OBS_BYTES = OBS_H * OBS_PACKED_W;

// The visited mask shows VISIT_ROWS x VISIT_COLS player-step cells (one step = 16 screen px = 8 obs px),
// with the player's cell at (VISIT_PLAYER_ROW, VISIT_PLAYER_COL), where Red draws the player.
constexpr int VISIT_CELL = 8, VISIT_ROWS = OBS_H / VISIT_CELL, VISIT_COLS = OBS_W / VISIT_CELL;
constexpr int VISIT_PLAYER_ROW = 4, VISIT_PLAYER_COL = 4;

// Samples the top-left pixel of each 2x2 block of an RGBA screen; shade = 3 - (R >> 6), which maps the
// DMG palette's R bytes 255/153/85/0 to 0/1/2/3.
inline void encode_screen(const uint8_t* rgba, uint8_t* out) {
    constexpr int row_stride = SCREEN_W * SCREEN_CHANNELS;
    for (int r = 0; r < OBS_H; ++r) {
        const uint8_t* src = rgba + (2 * r) * row_stride;  // R byte of pixel (2r, 0)
        uint8_t* dst = out + r * OBS_PACKED_W;
        for (int b = 0; b < OBS_PACKED_W; ++b) {
            // Output pixels 4b..4b+3 sample screen columns 8b, 8b+2, 8b+4, 8b+6.
            const uint8_t* p = src + b * 8 * SCREEN_CHANNELS;
            const unsigned s0 = 3u - (p[0] >> 6), s1 = 3u - (p[8] >> 6);
            const unsigned s2 = 3u - (p[16] >> 6), s3 = 3u - (p[24] >> 6);
            dst[b] = uint8_t(s0 << 6 | s1 << 4 | s2 << 2 | s3);
        }
    }
}

// The same packing from a 72x80 picture that is already in shades (render.h draws it from VRAM).
inline void pack_shades(const uint8_t* shades, uint8_t* out) {
    for (int i = 0; i < OBS_H * OBS_PACKED_W; ++i) {
        const uint8_t* p = shades + 4 * i;
        out[i] = uint8_t((p[0] & 3) << 6 | (p[1] & 3) << 4 | (p[2] & 3) << 2 | (p[3] & 3));
    }
}

// Cell (r, c) shows tile (x + c - VISIT_PLAYER_COL, y + r - VISIT_PLAYER_ROW) of the player's map:
// shade 3 (0xFF per 4 pixels) if visited, 0 otherwise. Neighbours past the map edge are read on the global map
// (an adjacent map's tile), or are 0 where the global map has nothing.
inline void encode_visited(const Exploration& ex, int map, int x, int y, uint8_t* out) {
    for (int r = 0; r < VISIT_ROWS; ++r) {
        uint8_t row[OBS_PACKED_W];
        const int ty = y + r - VISIT_PLAYER_ROW;
        for (int c = 0; c < VISIT_COLS; ++c) {
            const uint8_t v = ex.visited(map, x + c - VISIT_PLAYER_COL, ty) ? 0xFF : 0x00;
            row[2 * c] = v;
            row[2 * c + 1] = v;
        }
        for (int k = 0; k < VISIT_CELL; ++k) std::memcpy(out + (r * VISIT_CELL + k) * OBS_PACKED_W, row, OBS_PACKED_W);
    }
}

// RAM feature vector. Order is fixed and exported to Python as RAM_FEATURE_NAMES.
enum RamFeature : int {
    F_X,              // x / 255
    F_Y,              // y / 255
    F_FACING_DOWN,    // facing one-hot: wSpritePlayerStateData1FacingDirection 0 / 4 / 8 / 12;
    F_FACING_UP,      //   any other value gives all four zero
    F_FACING_LEFT,
    F_FACING_RIGHT,
    F_BADGES,         // badge count / 8
    F_PARTY_COUNT,    // party count (clamped to 6) / 6
    F_LEVEL_SUM,      // sum of party levels / 600
    F_HP_FRACTION,    // party HP sum / max HP sum, clamped to [0, 1]; 0 when max HP sum is 0
    F_WILD_BATTLE,    // wIsInBattle == 1
    F_TRAINER_BATTLE, // wIsInBattle == 2
    F_EVENTS,         // set event flag bits / 256 (a few hundred over a full game)
    F_REQUIRED,       // required events set / NUM_REQUIRED_EVENTS
    F_DEX_OWNED,      // owned bits / 151
    F_DEX_SEEN,       // seen bits / 151
    F_MONEY,          // money / 999999
    F_BAG_ITEMS,      // decoded bag item count / 20
    F_SLOT_HP,        // 6 values: per party slot HP / max HP clamped to [0, 1] (0 for empty slots)
    F_SLOT_LEVEL = F_SLOT_HP + red::PARTY_MAX,  // 6 values: per party slot level / 100
    NUM_RAM_FEATURES = F_SLOT_LEVEL + red::PARTY_MAX,
};

constexpr const char* RAM_FEATURE_NAMES[NUM_RAM_FEATURES] = {
    "x", "y", "facing_down", "facing_up", "facing_left", "facing_right", "badges", "party_count",
    "level_sum", "hp_fraction", "wild_battle", "trainer_battle", "events", "required_events",
    "dex_owned", "dex_seen", "money", "bag_items",
    "slot_hp_0", "slot_hp_1", "slot_hp_2", "slot_hp_3", "slot_hp_4", "slot_hp_5",
    "slot_level_0", "slot_level_1", "slot_level_2", "slot_level_3", "slot_level_4", "slot_level_5",
};

// Computed in double and rounded once to float32, so a float64 reference rounds to the same values.
inline void encode_ram_features(const RamState& s, float* f) {
    f[F_X] = float(s.x / 255.0);
    f[F_Y] = float(s.y / 255.0);
    for (int k = 0; k < 4; ++k) f[F_FACING_DOWN + k] = (s.facing == 4 * k) ? 1.0f : 0.0f;
    f[F_BADGES] = float(s.badge_count / 8.0);
    f[F_PARTY_COUNT] = float(s.party_count / 6.0);
    f[F_LEVEL_SUM] = float(s.level_sum / 600.0);
    f[F_HP_FRACTION] = float(hp_fraction(s));
    f[F_WILD_BATTLE] = s.in_battle == 1 ? 1.0f : 0.0f;
    f[F_TRAINER_BATTLE] = s.in_battle == 2 ? 1.0f : 0.0f;
    f[F_EVENTS] = float(s.event_count / 256.0);
    f[F_REQUIRED] = float(double(s.required_count) / red::NUM_REQUIRED_EVENTS);
    f[F_DEX_OWNED] = float(s.dex_owned_count / double(DEX_SPECIES));
    f[F_DEX_SEEN] = float(s.dex_seen_count / double(DEX_SPECIES));
    f[F_MONEY] = float(s.money / 999999.0);
    f[F_BAG_ITEMS] = float(s.num_bag_items / double(red::BAG_MAX_ITEMS));
    for (int i = 0; i < red::PARTY_MAX; ++i) {
        f[F_SLOT_HP + i] = s.max_hp[i] > 0 ? float(clamp01(double(s.hp[i]) / double(s.max_hp[i]))) : 0.0f;
        f[F_SLOT_LEVEL + i] = float(s.levels[i] / 100.0);
    }
}

// The progress observation (observe_progress), one float32 vector in this order: per party slot species id / 255,
// level / 100 and HP / max HP (clamped to [0, 1]; 0 for empty slots), then one bit per KEY_ITEMS entry (held in
// the bag now), then one bit per REQUIRED_EVENTS entry (set now).
constexpr int PROGRESS_SPECIES = 0, PROGRESS_LEVEL = red::PARTY_MAX, PROGRESS_HP = 2 * red::PARTY_MAX;
constexpr int PROGRESS_KEY_ITEMS = 3 * red::PARTY_MAX;
constexpr int PROGRESS_EVENTS = PROGRESS_KEY_ITEMS + red::NUM_KEY_ITEMS;
constexpr int NUM_PROGRESS_FEATURES = PROGRESS_EVENTS + red::NUM_REQUIRED_EVENTS;

inline void encode_progress(const RamState& s, const uint8_t* wram, float* f) {
    for (int i = 0; i < red::PARTY_MAX; ++i) {
        f[PROGRESS_SPECIES + i] = float(s.species[i] / 255.0);
        f[PROGRESS_LEVEL + i] = float(s.levels[i] / 100.0);
        f[PROGRESS_HP + i] = s.max_hp[i] > 0 ? float(clamp01(double(s.hp[i]) / double(s.max_hp[i]))) : 0.0f;
    }
    for (int k = 0; k < red::NUM_KEY_ITEMS; ++k) {
        bool held = false;
        for (int i = 0; i < s.num_bag_items; ++i) held |= s.bag_ids[i] == red::KEY_ITEM_IDS[k];
        f[PROGRESS_KEY_ITEMS + k] = held ? 1.0f : 0.0f;
    }
    for (int k = 0; k < red::NUM_REQUIRED_EVENTS; ++k)
        f[PROGRESS_EVENTS + k] = float((wram_at(wram, red::REQUIRED_EVENT_ADDR[k]) >> red::REQUIRED_EVENT_BIT[k]) & 1);
}

}  // namespace pokerl
