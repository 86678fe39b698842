// The policy's image as 4x4 blocks of pixels ("space to depth"), straight from the packed observations.
//
// The policy's first convolution (8x8, stride 4) runs as the equal 2x2 stride-1 convolution over 4x4 blocks
// (pokerl_fast/learn/policy.py, image_blocks and block_weight). A packed byte holds one block's row of 4 pixels
// (2 bits each, the first pixel in the high bits), so each block is 4 screen bytes and 4 visited bytes:
//
//   out[i][Y][X][dy*8 + c*4 + dx] = shade[pixel dx of byte (4Y+dy, X) of image c]   (c: 0 screen, 1 visited)
//
// out is (n, blocks_y, blocks_x, 32) elements of the compute dtype's bit pattern (T: uint16_t for bfloat16,
// uint32_t for float32), i.e. the (n, 32, blocks_y, blocks_x) image laid out channels-last; shade[k] is k/3 in that
// dtype. Only the first blocks_y <= rows/4 block rows and blocks_x <= cols block columns are written (the CNN never
// reads the rest). Samples are spread over OpenMP threads when there are many.
#pragma once

#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <vector>

namespace pokerl {

template <typename T>
inline void image_blocks(const uint8_t* screen, const uint8_t* visited, long n, int rows, int cols, int blocks_y,
                         int blocks_x, const T shade[4], T* out) {
    const long per_sample = static_cast<long>(rows) * cols;
#pragma omp parallel for schedule(static) if (n >= 64)
    for (long i = 0; i < n; ++i) {
        const uint8_t* s = screen + i * per_sample;
        const uint8_t* v = visited + i * per_sample;
        T* o = out + i * static_cast<long>(blocks_y) * blocks_x * 32;
        for (int by = 0; by < blocks_y; ++by) {
            for (int x = 0; x < blocks_x; ++x, o += 32) {
                for (int dy = 0; dy < 4; ++dy) {
                    const int at = (4 * by + dy) * cols + x;
                    const uint8_t sb = s[at], vb = v[at];
                    T* p = o + dy * 8;
                    p[0] = shade[sb >> 6];
                    p[1] = shade[(sb >> 4) & 3];
                    p[2] = shade[(sb >> 2) & 3];
                    p[3] = shade[sb & 3];
                    p[4] = shade[vb >> 6];
                    p[5] = shade[(vb >> 4) & 3];
                    p[6] = shade[(vb >> 2) & 3];
                    p[7] = shade[vb & 3];
                }
            }
        }
    }
}


// The distinct images of a batch: sample i's image is its screen row and visited row (row_bytes each). first[k]
// is the first sample of the k-th distinct image in order of first appearance, inverse[i] the k of sample i;
// returns the number of distinct images. Exact: a 64-bit hash picks candidates, the bytes decide.
//
// The policy's CNN then runs once per distinct image in a training minibatch (the same pixels give the same
// features; their gradients add up through the gather): an agent that stands against a wall, waits in a menu or
// reads a text box repeats its image for many steps.
inline long unique_images(const uint8_t* screen, const uint8_t* visited, long n, long row_bytes, int64_t* first,
                          int64_t* inverse) {
    std::unordered_map<uint64_t, std::vector<int64_t>> by_hash;
    by_hash.reserve(static_cast<size_t>(n) * 2);
    long distinct = 0;
    for (long i = 0; i < n; ++i) {
        const uint8_t* s = screen + i * row_bytes;
        const uint8_t* v = visited + i * row_bytes;
        uint64_t h = 0x9E3779B97F4A7C15ull;
        for (const uint8_t* row : {s, v}) {
            long b = 0;
            for (; b + 8 <= row_bytes; b += 8) {
                uint64_t w;
                std::memcpy(&w, row + b, 8);
                h = (h ^ w) * 0x100000001B3ull;
                h ^= h >> 29;
            }
            for (; b < row_bytes; ++b) h = (h ^ row[b]) * 0x100000001B3ull;
        }
        auto& candidates = by_hash[h];
        long found = -1;
        for (int64_t k : candidates) {
            const long j = first[k];
            if (std::memcmp(s, screen + j * row_bytes, row_bytes) == 0 &&
                std::memcmp(v, visited + j * row_bytes, row_bytes) == 0) {
                found = k;
                break;
            }
        }
        if (found < 0) {
            found = distinct++;
            first[found] = i;
            candidates.push_back(found);
        }
        inverse[i] = found;
    }
    return distinct;
}

}  // namespace pokerl
