// The reward table. Each term k has a score_k(t) per env; reward(t) = sum_k w_k * (score_k(t) - score_k(t-1)).
// reward_reset re-bases every score on the current RAM, so a loaded state earns nothing for what it already has.
// Term order is fixed and exported to Python as TERM_NAMES (configs name weights by these strings).
#pragma once
#include <cstdint>
#include <cstring>

#include "ram.h"

namespace pokerl {

enum Term : int {
    T_EXPLORE,          // value of the tiles visited this episode: 1 per new tile (see core.h update_env)
    T_EVENTS,           // set event bits minus the count at episode start (floored at 0)
    T_REQUIRED_EVENTS,  // required events set
    T_BADGES,           // badge count
    T_LEVELS,           // sum of party levels
    T_HEAL,             // accumulated party HP-fraction increases, out of battle, party size unchanged
    T_BATTLES_WON,      // in_battle 1 (wild) or 2 (trainer) -> 0 with some party HP left
    T_KEY_ITEMS,        // distinct key items and HMs held in the bag at some point this episode
    T_DEX,              // pokedex seen bits + owned bits
    T_BLACKOUT,         // times the party went to all-zero HP (party_count > 0); weighted negative
    NUM_TERMS,
};

constexpr const char* TERM_NAMES[NUM_TERMS] = {
    "explore", "events", "required_events", "badges", "levels",
    "heal", "battles_won", "key_items", "dex", "blackout",
};

struct RewardState {
    double score[NUM_TERMS];  // score at the last update
    double sums[NUM_TERMS];   // sum of w_k * delta_k since the episode start (logging)
    double heal;              // accumulated HP-fraction increases
    int32_t battles_won, blackouts;
    int32_t event_base;        // event bits set at episode start
    uint64_t items_seen[4];    // 256-bit set of key item ids held this episode
    // What the transition-based terms need from the previous update.
    int32_t prev_in_battle, prev_party_count, prev_blackout;
    double prev_hp_fraction;
};

inline bool is_blackout(const RamState& s) { return s.party_count > 0 && s.hp_sum == 0; }

inline void note_items(RewardState& r, const RamState& s) {
    for (int i = 0; i < s.num_bag_items; ++i) {
        const uint8_t id = s.bag_ids[i];
        r.items_seen[id >> 6] |= red::KEY_ITEM_MASK[id >> 6] & (uint64_t(1) << (id & 63));
    }
}

// explore_score: the explore term's score, the tiles' value so far this episode (core.h: update_env).
inline void compute_scores(const RewardState& r, const RamState& s, double explore_score, double* out) {
    out[T_EXPLORE] = explore_score;
    const int32_t ev = s.event_count - r.event_base;
    out[T_EVENTS] = ev > 0 ? double(ev) : 0.0;
    out[T_REQUIRED_EVENTS] = s.required_count;
    out[T_BADGES] = s.badge_count;
    out[T_LEVELS] = s.level_sum;
    out[T_HEAL] = r.heal;
    out[T_BATTLES_WON] = r.battles_won;
    int items = 0;
    for (uint64_t w : r.items_seen) items += __builtin_popcountll(w);
    out[T_KEY_ITEMS] = items;
    out[T_DEX] = s.dex_seen_count + s.dex_owned_count;
    out[T_BLACKOUT] = r.blackouts;
}

inline void remember_prev(RewardState& r, const RamState& s) {
    r.prev_in_battle = s.in_battle;
    r.prev_party_count = s.party_count;
    r.prev_blackout = is_blackout(s);
    r.prev_hp_fraction = hp_fraction(s);
}

// Starts an episode on the current RAM: every delta from here on is measured against it.
inline void reward_reset(RewardState& r, const RamState& s, double explore_score) {
    std::memset(&r, 0, sizeof(r));
    r.event_base = s.event_count;
    note_items(r, s);
    remember_prev(r, s);
    compute_scores(r, s, explore_score, r.score);
}

// One update: advances the transition counters, returns sum_k w_k * delta_k and adds each term to sums.
inline double reward_step(RewardState& r, const RamState& s, double explore_score, const float* weights) {
    const double frac = hp_fraction(s);
    if (r.prev_in_battle == 0 && s.in_battle == 0 && r.prev_party_count == s.party_count && frac > r.prev_hp_fraction)
        r.heal += frac - r.prev_hp_fraction;
    // 0xFF marks a lost battle (the game heals the party afterwards): leaving it is not a win.
    if ((r.prev_in_battle == 1 || r.prev_in_battle == 2) && s.in_battle == 0 && s.hp_sum > 0) ++r.battles_won;
    const bool blackout = is_blackout(s);
    if (blackout && !r.prev_blackout) ++r.blackouts;
    note_items(r, s);
    remember_prev(r, s);

    double now[NUM_TERMS];
    compute_scores(r, s, explore_score, now);
    double total = 0.0;
    for (int k = 0; k < NUM_TERMS; ++k) {
        const double d = double(weights[k]) * (now[k] - r.score[k]);
        r.sums[k] += d;
        total += d;
        r.score[k] = now[k];
    }
    return total;
}

}  // namespace pokerl
