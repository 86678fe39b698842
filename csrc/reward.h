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
    T_LEVELS,           // party levels gained since each mon joined, tapered above levels_cap: level_value - level_base
    T_HEAL,             // accumulated party HP-fraction increases, out of battle, party size unchanged
    T_BATTLES_WON,      // in_battle 2 (trainer) -> 0 with the enemy mon at 0 HP and party HP left
    T_KEY_ITEMS,        // distinct key items and HMs held in the bag at some point this episode
    T_DEX,              // pokedex seen bits + owned bits
    T_BLACKOUT,         // times the party went to all-zero HP (party_count > 0) where Red blacks out; weighted negative
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
    double level_base;         // level value not earned: the party's at episode start and each joining mon's
    uint64_t items_seen[4];    // 256-bit set of key item ids held this episode
    // The most event bits, required events, badges and Pokedex bits (seen + owned) the RAM has shown this episode:
    // the terms count these, so a flag Red clears (the Safari Zone's game, a script resetting its own flags, a new
    // game after the credits) never costs reward, and setting it again pays nothing twice.
    int32_t most_events, most_required, most_badges, most_dex;
    // What the transition-based terms need from the previous update.
    int32_t prev_in_battle, prev_party_count, prev_blackout;
    double prev_hp_fraction, prev_level_value;
};

// The whole party down (the transition is what counts).
inline bool is_blackout(const RamState& s) { return s.party_count > 0 && s.hp_sum == 0; }

// Red's HandlePlayerBlackOut (engine/battle/core.asm): losing to OPP_RIVAL1 in Oak's lab (the starter battle)
// is not a blackout, the game goes on; any other loss is (money halved, back to the last heal point).
inline bool blackout_forgiven(const RamState& s) {
    return s.cur_opponent == red::OPP_RIVAL1 && s.map == red::MAP_OAKS_LAB;
}

// A trainer battle won, not one left: wIsInBattle goes trainer -> 0 with the enemy mon fainted (Red zeroes
// wEnemyMonHP when it faints) and some party HP left. Wild wins pay through the levels they bring: an endless
// supply of wild battles would otherwise pay for grinding forever, while each trainer battles once.
inline bool battle_won(int32_t prev_in_battle, const RamState& s) {
    return prev_in_battle == red::BATTLE_TRAINER && s.in_battle == 0 && s.enemy_hp == 0 && s.hp_sum > 0;
}

// What one mon's level is worth: a level up to levels_cap counts 1, each above it a quarter (in Red a level costs
// ever more experience; past what the road ahead needs, grinding stops paying). levels_cap 0: no taper.
inline double level_value(int level, double levels_cap) {
    if (levels_cap <= 0.0 || level <= levels_cap) return level;
    return levels_cap + (level - levels_cap) / 4.0;
}

inline double party_level_value(const RamState& s, int from, int to, double levels_cap) {
    double v = 0.0;
    for (int i = from; i < to; ++i) v += level_value(s.levels[i], levels_cap);
    return v;
}

// The levels baseline follows the party: a mon that joins (starter, catch, PC withdraw) adds the value of the
// new slots' levels, so only levels gained afterwards pay. When the party shrinks (PC deposit, trade) we cannot
// tell which slot left (Red shifts the rest up), so the term keeps its previous score: the baseline moves by the
// party value's change, and levels already earned are neither taken back nor paid again.
inline void follow_party(RewardState& r, const RamState& s, double levels_cap) {
    if (s.party_count > r.prev_party_count) {
        r.level_base += party_level_value(s, r.prev_party_count, s.party_count, levels_cap);
    } else if (s.party_count < r.prev_party_count) {
        r.level_base += party_level_value(s, 0, s.party_count, levels_cap) - r.prev_level_value;
    }
}

inline void note_most(RewardState& r, const RamState& s) {
    auto keep = [](int32_t& most, int32_t now) { most = now > most ? now : most; };
    keep(r.most_events, s.event_count);
    keep(r.most_required, s.required_count);
    keep(r.most_badges, s.badge_count);
    keep(r.most_dex, s.dex_seen_count + s.dex_owned_count);
}

inline void note_items(RewardState& r, const RamState& s) {
    for (int i = 0; i < s.num_bag_items; ++i) {
        const uint8_t id = s.bag_ids[i];
        r.items_seen[id >> 6] |= red::KEY_ITEM_MASK[id >> 6] & (uint64_t(1) << (id & 63));
    }
}

// explore_score: the explore term's score, the tiles' value so far this episode (core.h: update_env).
inline void compute_scores(const RewardState& r, const RamState& s, double explore_score, double levels_cap,
                           double* out) {
    out[T_EXPLORE] = explore_score;
    const int32_t ev = r.most_events - r.event_base;
    out[T_EVENTS] = ev > 0 ? double(ev) : 0.0;
    out[T_REQUIRED_EVENTS] = r.most_required;
    out[T_BADGES] = r.most_badges;
    out[T_LEVELS] = party_level_value(s, 0, s.party_count, levels_cap) - r.level_base;
    out[T_HEAL] = r.heal;
    out[T_BATTLES_WON] = r.battles_won;
    int items = 0;
    for (uint64_t w : r.items_seen) items += __builtin_popcountll(w);
    out[T_KEY_ITEMS] = items;
    out[T_DEX] = r.most_dex;
    out[T_BLACKOUT] = r.blackouts;
}

inline void remember_prev(RewardState& r, const RamState& s, double levels_cap) {
    r.prev_in_battle = s.in_battle;
    r.prev_party_count = s.party_count;
    r.prev_blackout = is_blackout(s);
    r.prev_hp_fraction = hp_fraction(s);
    r.prev_level_value = party_level_value(s, 0, s.party_count, levels_cap);
}

// Starts an episode on the current RAM: every delta from here on is measured against it.
inline void reward_reset(RewardState& r, const RamState& s, double explore_score, double levels_cap) {
    std::memset(&r, 0, sizeof(r));
    r.event_base = s.event_count;
    r.level_base = party_level_value(s, 0, s.party_count, levels_cap);
    note_most(r, s);
    note_items(r, s);
    remember_prev(r, s, levels_cap);
    compute_scores(r, s, explore_score, levels_cap, r.score);
}

// One update: advances the transition counters, returns sum_k w_k * delta_k and adds each term to sums.
inline double reward_step(RewardState& r, const RamState& s, double explore_score, const float* weights,
                          double levels_cap) {
    const double frac = hp_fraction(s);
    if (r.prev_in_battle == 0 && s.in_battle == 0 && r.prev_party_count == s.party_count && frac > r.prev_hp_fraction)
        r.heal += frac - r.prev_hp_fraction;
    if (battle_won(r.prev_in_battle, s)) ++r.battles_won;
    if (is_blackout(s) && !r.prev_blackout && !blackout_forgiven(s)) ++r.blackouts;
    follow_party(r, s, levels_cap);
    note_most(r, s);
    note_items(r, s);
    remember_prev(r, s, levels_cap);

    double now[NUM_TERMS];
    compute_scores(r, s, explore_score, levels_cap, now);
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
