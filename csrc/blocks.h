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

}  // namespace pokerl
