// One env = one EnvCore: pointers into Python-owned buffers first, then its state.
// Batch owns the envs and loops over them natively; Python allocates every buffer once and binds rows.
// Batch::step is a whole vector step in one call: each env's emulation (step.h) and its update (decode,
// exploration, reward, observations) run back to back on the same thread, the envs spread over OpenMP
// threads.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "explore.h"
#include "obs.h"
#include "ram.h"
#include "reward.h"
#include "step.h"

namespace pokerl {

// Per-env int32 info values, one (num_envs,) array each, exported to Python as INFO_NAMES.
enum Info : int {
    I_MAP, I_X, I_Y, I_BADGES, I_EVENTS, I_REQUIRED_EVENTS, I_EXPLORE, I_LEVELS, I_IN_BATTLE, I_SCENE,
    I_SCENE_CHANGED, I_GAME_BEATEN, NUM_INFO,
};
// scene: ram.h's Scene (0 free, 1 text or menu, 2 battle); scene_changed: 1 when the step changed what the scene
// shows (scene_fingerprint differs from the previous step's), 0 on the step that starts an episode; game_beaten:
// 1 while ram.h's game_beaten holds (the Hall of Fame with the champion beaten).
constexpr const char* INFO_NAMES[NUM_INFO] = {
    "map", "x", "y", "badges", "events", "required_events", "explore", "levels", "in_battle", "scene",
    "scene_changed", "game_beaten",
};

struct EnvCore {
    // Inputs (emulator memory) and output rows.
    const uint8_t* wram = nullptr;    // 8192 bytes, 0xC000..0xDFFF
    const uint8_t* screen = nullptr;  // 144 x 160 x 4 RGBA, or 72 x 80 shades when screen_is_shades
    bool screen_is_shades = false;
    uint8_t* obs_screen = nullptr;    // 72 x 20 packed
    uint8_t* obs_visited = nullptr;   // 72 x 20 packed
    float* obs_ram = nullptr;         // NUM_RAM_FEATURES
    uint8_t* obs_map = nullptr;       // 1
    float* reward = nullptr;          // 1
    float* term_sums = nullptr;       // NUM_TERMS
    int32_t* info[NUM_INFO] = {};     // 1 each
    float* obs_progress = nullptr;    // NUM_PROGRESS_FEATURES, or null when the progress observation is off
    // Mechanics (configuration, not state): a new tile on an unfinished map (map_unfinished) pays explore_boost;
    // with revisit_half_life > 0 a known tile's value decays with that half-life (steps since the player last
    // stood on it) and standing on it again pays back what it lost (revisit_gain).
    double explore_boost = 1.0;
    double revisit_half_life = 0.0;
    double levels_cap = 0.0;  // the levels term's taper (reward.h: level_value); 0: every level counts 1
    // State.
    RamState ram{};
    Exploration explore;
    RewardState rew{};
    // Revisit clock: steps since the episode's reset, and per global tile the clock when the player last stood
    // there (allocated only while revisit_half_life > 0; read only for tiles the exploration memory knows).
    int32_t clock = 0;
    std::vector<int32_t> last_visit;
    uint64_t scene_print = 0;  // scene_fingerprint after the last update
    int32_t scene_changed = 0;
    bool started = false;  // false until the first reset; the first update resets implicitly
};

inline void encode_screen_of(const EnvCore& e) {
    if (e.screen_is_shades)
        pack_shades(e.screen, e.obs_screen);
    else
        encode_screen(e.screen, e.obs_screen);
}

// Stages of update_all, runnable alone so benchmarks can time each kernel.
enum Stage : int { S_ALL, S_DECODE, S_EXPLORE, S_REWARD, S_SCREEN, S_VISITED, S_RAM_FEATURES, NUM_STAGES };

inline void write_outputs(EnvCore& e, double reward) {
    encode_screen_of(e);
    encode_visited(e.explore, e.ram.map, e.ram.x, e.ram.y, e.obs_visited);
    encode_ram_features(e.ram, e.obs_ram);
    *e.obs_map = e.ram.map;
    *e.reward = float(reward);
    for (int k = 0; k < NUM_TERMS; ++k) e.term_sums[k] = float(e.rew.sums[k]);
    const RamState& s = e.ram;
    const int32_t values[NUM_INFO] = {s.map, s.x, s.y, s.badge_count, s.event_count, s.required_count,
                                      int32_t(e.explore.count), s.level_sum, s.in_battle,
                                      scene_of(e.wram), e.scene_changed, int32_t(game_beaten(e.wram))};
    for (int k = 0; k < NUM_INFO; ++k) *e.info[k] = values[k];
    if (e.obs_progress) encode_progress(s, e.wram, e.obs_progress);
}

// Starts a new episode on the env's current RAM: clears its exploration (keeping the current tile),
// re-bases the reward, and writes fresh outputs with reward 0.
// Stamps the player's global tile with the revisit clock (when revisit decay is on).
inline void stamp_tile(EnvCore& e) {
    if (e.last_visit.empty()) return;
    const int g = global_tile(e.ram.map, e.ram.x, e.ram.y);
    if (g >= 0) e.last_visit[g] = e.clock;
}

inline void reset_env(EnvCore& e) {
    decode_ram(e.wram, e.ram);
    e.explore.reset();
    e.explore.visit(e.ram.map, e.ram.x, e.ram.y);
    e.clock = 0;
    stamp_tile(e);
    reward_reset(e.rew, e.ram, e.explore.count, e.levels_cap);
    e.scene_print = scene_fingerprint(e.wram);
    e.scene_changed = 0;
    e.started = true;
    write_outputs(e, 0.0);
}

// Clears the env's exploration memory without a new episode (explore_reset_interval): the current tile stays
// visited, so tiles pay again once left and re-entered. The explore term's score is not touched (update_env adds
// to it), so the reward does not jump; only the visited crop and the explore info are rewritten.
inline void reset_exploration(EnvCore& e) {
    e.explore.reset();
    e.explore.visit(e.ram.map, e.ram.x, e.ram.y);
    stamp_tile(e);
    encode_visited(e.explore, e.ram.map, e.ram.x, e.ram.y, e.obs_visited);
    *e.info[I_EXPLORE] = int32_t(e.explore.count);
}

// What a new tile adds to the explore term's score: 1, or explore_boost on a map whose completion events are
// not all set.
inline double new_tile_value(const EnvCore& e) { return map_unfinished(e.ram) ? e.explore_boost : 1.0; }

// What standing on a known global tile again adds (revisit decay on): the share of its value lost since the
// player last stood there, 1 - 2^(-elapsed / half-life), times new_tile_value. Tiles with no global place
// (fallback pages) have no clock and pay nothing, as without decay.
inline double revisit_gain(const EnvCore& e) {
    if (e.last_visit.empty()) return 0.0;
    const int g = global_tile(e.ram.map, e.ram.x, e.ram.y);
    if (g < 0) return 0.0;
    const double elapsed = double(e.clock - e.last_visit[g]);
    return (1.0 - std::exp2(-elapsed / e.revisit_half_life)) * new_tile_value(e);
}

// The shared heat map gains one on the env's tile; envs on other threads may count the same tile.
inline void count_visit(uint32_t* global_counts, const RamState& s) {
    const int g = global_tile(s.map, s.x, s.y);
    if (g >= 0) __atomic_fetch_add(&global_counts[g], 1u, __ATOMIC_RELAXED);
}

// One step for one env. global_counts (KANTO_HEIGHT x KANTO_WIDTH) gains one per update on the env's tile:
// a heat map of steps spent, over all envs.
inline void update_env(EnvCore& e, const float* weights, uint32_t* global_counts) {
    if (!e.started) {
        reset_env(e);
        return;
    }
    decode_ram(e.wram, e.ram);
    ++e.clock;
    const bool fresh = e.explore.visit(e.ram.map, e.ram.x, e.ram.y);
    count_visit(global_counts, e.ram);
    // The explore score grows by each new tile's value (with explore_boost 1 and no revisit decay: the
    // unique-tile count), and by a known tile's regained value when revisit decay is on.
    const double explore_score = e.rew.score[T_EXPLORE] + (fresh ? new_tile_value(e) : revisit_gain(e));
    stamp_tile(e);
    const uint64_t print = scene_fingerprint(e.wram);
    e.scene_changed = print != e.scene_print;
    e.scene_print = print;
    const double r = reward_step(e.rew, e.ram, explore_score, weights, e.levels_cap);
    write_outputs(e, r);
}

struct Batch {
    std::vector<EnvCore> envs;
    std::vector<std::shared_ptr<Driver>> drivers;  // one per env; empty for a kernels-only batch
    const uint8_t* masks = nullptr;     // (num_actions, 2) joypad masks (directional, standard)
    int num_actions = 0;
    StepConfig config;
    int num_threads = 1;
    int32_t* frames = nullptr;          // num_envs: frames each env's last step ticked, Python-owned
    const float* weights = nullptr;     // NUM_TERMS, Python-owned (edits take effect on the next update)
    uint32_t* global_counts = nullptr;  // KANTO_HEIGHT x KANTO_WIDTH, Python-owned

    explicit Batch(int num_envs) : envs(num_envs) {}

    void update_all() {
        for (auto& e : envs) update_env(e, weights, global_counts);
    }

    void reset(const int64_t* ids, int64_t n) {
        for (int64_t i = 0; i < n; ++i) reset_env(envs[ids[i]]);
    }

    void reset_exploration(const int64_t* ids, int64_t n) {
        for (int64_t i = 0; i < n; ++i) pokerl::reset_exploration(envs[ids[i]]);
    }

    void step_env(int i, int64_t action) {
        const uint8_t* m = masks + 2 * action;
        frames[i] = drivers[i]->run(m[0], m[1], config);
        update_env(envs[i], weights, global_counts);
    }

    // One vector step: actions already checked to lie in [0, num_actions).
    void step(const int64_t* actions) {
        const int n = int(envs.size());
        if (num_threads <= 1) {  // no OpenMP at all: also safe in a process forked after OpenMP was used
            for (int i = 0; i < n; ++i) step_env(i, actions[i]);
            return;
        }
#pragma omp parallel for schedule(dynamic, 1) num_threads(num_threads)
        for (int i = 0; i < n; ++i) step_env(i, actions[i]);
    }

    // Runs one kernel over all envs (benchmarks). Stages after decode use the last decoded RAM.
    void run_stage(int stage) {
        for (auto& e : envs) {
            switch (stage) {
                case S_ALL: update_env(e, weights, global_counts); break;
                case S_DECODE: decode_ram(e.wram, e.ram); break;
                case S_EXPLORE:
                    e.explore.visit(e.ram.map, e.ram.x, e.ram.y);
                    count_visit(global_counts, e.ram);
                    break;
                case S_REWARD:
                    *e.reward = float(reward_step(e.rew, e.ram, double(e.explore.count), weights, e.levels_cap));
                    break;
                case S_SCREEN: encode_screen_of(e); break;
                case S_VISITED: encode_visited(e.explore, e.ram.map, e.ram.x, e.ram.y, e.obs_visited); break;
                case S_RAM_FEATURES: encode_ram_features(e.ram, e.obs_ram); break;
                default: break;
            }
        }
    }
};

// The per-env state a checkpoint keeps, as one table read by export and import alike. Each field is
// `count` values of one dtype at a fixed place in EnvCore. Exploration's fallback pages (variable size)
// and the shared heat map travel beside the table.
enum FieldType : int { F_U8, F_I32, F_U64, F_F64 };
constexpr int FIELD_TYPE_SIZE[] = {1, 4, 8, 8};

struct StateField {
    const char* name;
    int type;
    int count;
    void* (*at)(EnvCore& e);
    bool optional = false;  // a checkpoint from before the field existed lacks it (set_state derives it)
};

static_assert(sizeof(bool) == 1, "started is stored as one byte");
static_assert(offsetof(RewardState, most_dex) == offsetof(RewardState, most_events) + 3 * sizeof(int32_t),
              "reward_most is stored as 4 consecutive int32");
inline const std::vector<StateField>& state_fields() {
    static const std::vector<StateField> fields = {
        {"started", F_U8, 1, [](EnvCore& e) -> void* { return &e.started; }},
        {"explore_bits", F_U64, EXPLORE_WORDS, [](EnvCore& e) -> void* { return e.explore.bits.data(); }},
        {"reward_score", F_F64, NUM_TERMS, [](EnvCore& e) -> void* { return e.rew.score; }},
        {"reward_sums", F_F64, NUM_TERMS, [](EnvCore& e) -> void* { return e.rew.sums; }},
        {"reward_heal", F_F64, 1, [](EnvCore& e) -> void* { return &e.rew.heal; }},
        {"reward_battles_won", F_I32, 1, [](EnvCore& e) -> void* { return &e.rew.battles_won; }},
        {"reward_blackouts", F_I32, 1, [](EnvCore& e) -> void* { return &e.rew.blackouts; }},
        {"reward_event_base", F_I32, 1, [](EnvCore& e) -> void* { return &e.rew.event_base; }},
        {"reward_level_value_base", F_F64, 1, [](EnvCore& e) -> void* { return &e.rew.level_base; }, true},
        {"reward_items_seen", F_U64, 4, [](EnvCore& e) -> void* { return e.rew.items_seen; }},
        {"prev_in_battle", F_I32, 1, [](EnvCore& e) -> void* { return &e.rew.prev_in_battle; }},
        {"prev_party_count", F_I32, 1, [](EnvCore& e) -> void* { return &e.rew.prev_party_count; }},
        {"prev_blackout", F_I32, 1, [](EnvCore& e) -> void* { return &e.rew.prev_blackout; }},
        {"prev_hp_fraction", F_F64, 1, [](EnvCore& e) -> void* { return &e.rew.prev_hp_fraction; }},
        {"prev_level_value", F_F64, 1, [](EnvCore& e) -> void* { return &e.rew.prev_level_value; }, true},
        {"reward_most", F_I32, 4, [](EnvCore& e) -> void* { return &e.rew.most_events; }, true},
        {"scene_print", F_U64, 1, [](EnvCore& e) -> void* { return &e.scene_print; }, true},
        {"scene_changed", F_I32, 1, [](EnvCore& e) -> void* { return &e.scene_changed; }, true},
    };
    return fields;
}

// Exploration was loaded field by field (explore_bits); its count and fallback pages follow from the triples.
inline void load_exploration(EnvCore& e, const int32_t* triples, int64_t n_triples) {
    std::vector<uint64_t> words(e.explore.bits);
    e.explore.load(words.data(), triples, n_triples);
}

}  // namespace pokerl
