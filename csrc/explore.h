// Exploration on the global Kanto tile map.
// Map m's tile (x, y) lives at (MAP_GLOBAL_X[m] + x, MAP_GLOBAL_Y[m] + y). Maps without an offset (-1) and
// coordinates that land outside the KANTO_WIDTH x KANTO_HEIGHT map go to per-map fallback pages
// (256 x 256 bits, allocated the first time a map needs one), so every visited (map, x, y) is kept.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "red_constants.h"

namespace pokerl {

constexpr int KANTO_TILES = red::KANTO_WIDTH * red::KANTO_HEIGHT;
constexpr int EXPLORE_WORDS = (KANTO_TILES + 63) / 64;
constexpr int FALLBACK_WORDS = 256 * 256 / 64;
constexpr int NUM_MAPS = 256;

// Global tile index of (map, x, y), or -1 when it has no place on the global map.
inline int global_tile(int map, int x, int y) {
    const int ox = red::MAP_GLOBAL_X[map & 0xFF], oy = red::MAP_GLOBAL_Y[map & 0xFF];
    if (ox < 0 || oy < 0) return -1;
    const int gx = ox + x, gy = oy + y;
    if (gx < 0 || gy < 0 || gx >= red::KANTO_WIDTH || gy >= red::KANTO_HEIGHT) return -1;
    return gy * red::KANTO_WIDTH + gx;
}

struct Exploration {
    std::vector<uint64_t> bits = std::vector<uint64_t>(EXPLORE_WORDS, 0);
    std::unique_ptr<uint64_t[]> fallback[NUM_MAPS];  // null until the map first needs it
    int64_t count = 0;                               // unique tiles, global and fallback

    void reset() {
        std::memset(bits.data(), 0, sizeof(uint64_t) * EXPLORE_WORDS);
        for (auto& page : fallback) page.reset();
        count = 0;
    }

    uint64_t* page_for(int map) {
        auto& page = fallback[map & 0xFF];
        if (!page) {
            page.reset(new uint64_t[FALLBACK_WORDS]);
            std::memset(page.get(), 0, sizeof(uint64_t) * FALLBACK_WORDS);
        }
        return page.get();
    }

    // Marks (map, x, y) visited (x, y are the game's 0..255 step coordinates). True if it was new.
    bool visit(int map, int x, int y) {
        const int g = global_tile(map, x, y);
        uint64_t* word;
        uint64_t mask;
        if (g >= 0) {
            word = &bits[g >> 6];
            mask = uint64_t(1) << (g & 63);
        } else {
            uint64_t* page = page_for(map);
            const int k = (y & 0xFF) * 256 + (x & 0xFF);
            word = &page[k >> 6];
            mask = uint64_t(1) << (k & 63);
        }
        if (*word & mask) return false;
        *word |= mask;
        ++count;
        return true;
    }

    // x, y may be any int: the visited crop asks about neighbours, which on the global map can lie on an
    // adjacent map (negative or past-the-edge local coordinates). Only fallback tiles need 0..255.
    bool visited(int map, int x, int y) const {
        const int g = global_tile(map, x, y);
        if (g >= 0) return (bits[g >> 6] >> (g & 63)) & 1;
        if (x < 0 || y < 0 || x > 255 || y > 255) return false;
        const auto& page = fallback[map & 0xFF];
        if (!page) return false;
        const int k = y * 256 + x;
        return (page[k >> 6] >> (k & 63)) & 1;
    }

    // Number of fallback tiles, and writing them out as (map, x, y) triples (checkpoints).
    int64_t fallback_count() const {
        int64_t n = 0;
        for (const auto& page : fallback)
            if (page)
                for (int w = 0; w < FALLBACK_WORDS; ++w) n += __builtin_popcountll(page[w]);
        return n;
    }

    void export_fallback(int32_t* out) const {
        for (int m = 0; m < NUM_MAPS; ++m) {
            if (!fallback[m]) continue;
            for (int k = 0; k < 256 * 256; ++k) {
                if ((fallback[m][k >> 6] >> (k & 63)) & 1) {
                    *out++ = m;
                    *out++ = k & 0xFF;
                    *out++ = k >> 8;
                }
            }
        }
    }

    // Restores a checkpoint: global words, then fallback triples; count is recomputed, not trusted.
    void load(const uint64_t* words, const int32_t* triples, int64_t n_triples) {
        reset();
        std::memcpy(bits.data(), words, sizeof(uint64_t) * EXPLORE_WORDS);
        // Bits past the last tile would inflate the count; they never come from visit().
        if (KANTO_TILES % 64) bits[EXPLORE_WORDS - 1] &= (uint64_t(1) << (KANTO_TILES % 64)) - 1;
        for (int w = 0; w < EXPLORE_WORDS; ++w) count += __builtin_popcountll(bits[w]);
        for (int64_t i = 0; i < n_triples; ++i) {
            const int32_t* t = triples + 3 * i;
            uint64_t* page = page_for(t[0]);
            const int k = (t[2] & 0xFF) * 256 + (t[1] & 0xFF);
            if (!((page[k >> 6] >> (k & 63)) & 1)) {
                page[k >> 6] |= uint64_t(1) << (k & 63);
                ++count;
            }
        }
    }
};

}  // namespace pokerl
