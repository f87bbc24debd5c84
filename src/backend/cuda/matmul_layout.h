// How weight matrices are laid out in device memory (DeviceMatrix::layout), shared by the host
// repack (matmul_upload.cu) and the kernels that read it (matvec_*.cu, matmul_gemm.cu, embed.cu).
//
// GGUF blocks are 18, 34, 144, 210 ... bytes long, so a block in the file is rarely 16-byte
// aligned and its quants sit next to its scales. At upload every matrix is rewritten (the file
// never changes) into one of two layouts in which every load a kernel issues is an aligned,
// coalesced 16-byte load:
//
//  kLayoutRows   — every supported type but Q4_0/Q4_K. Each GGUF block is split in two: its quant bytes
//                  (a multiple of 16, `qb` bytes) go to the quant array, row after row
//                  (row r, block b at (r * nb + b) * qb); the rest (scales, mins, high bits: `sb`
//                  bytes) goes to the side array at aux_offset, same order. F32/F16/BF16
//                  rows are cut into 16-byte "blocks" of 4 or 8 values (the last one zero-padded).
//  kLayoutTile4  — Q4_0 and Q4_K, read by tensor-core (mma) matrix-vector kernels. Rows are
//                  grouped in tiles of 16 and columns in chunks of 64; one chunk of one tile is
//                  512 bytes = 32 lanes x 16 bytes, and lane L's 16 bytes are exactly the 4-bit
//                  A-fragments of mma.m16n8k16 that lane L needs for the chunk's 4 k16-steps (see
//                  tile4_nibble). Scales go to a side array: Q4_0 one f16 per row and 32 columns,
//                  Q4_K the 16-byte (d, dmin, 12 packed scale bytes) head of each super-block.
//                  Rows are padded to a multiple of 16 and Q4_0 columns to a multiple of 64 with
//                  zero quants and zero scales.
#pragma once

#include <cstdint>

#include "llcuda/ggml_type.h"

#if defined(__CUDACC__)
#define LLCUDA_HD __host__ __device__ __forceinline__
#else
#define LLCUDA_HD inline
#endif

namespace llcuda::cuda {

enum : int {
    kLayoutRows = 1,
    kLayoutTile4 = 2,
};

// Geometry of kLayoutRows for one type: a GGUF block of `elems` values keeps its bytes
// [qoff, qoff + qb) (the quants, a 16-byte multiple) in the quant array; its other `sb` bytes, in
// their file order (the part before qoff, then the part after), go to the side array, which is
// therefore exactly as large as the file's scales (Q8_0 reads 34 bytes per 32 values, not 36).
struct RowsGeom {
    uint32_t elems = 0, qb = 0, sb = 0, qoff = 0;
};

LLCUDA_HD constexpr RowsGeom rows_geom(GgmlType t) {
    switch (t) {
        case GgmlType::F32: return {4, 16, 0, 0};
        case GgmlType::F16: return {8, 16, 0, 0};
        case GgmlType::BF16: return {8, 16, 0, 0};
        case GgmlType::Q4_1: return {32, 16, 4, 4};     // side: d, m
        case GgmlType::Q5_0: return {32, 16, 6, 6};     // side: d, qh[4]
        case GgmlType::Q5_1: return {32, 16, 8, 8};     // side: d, m, qh[4]
        case GgmlType::Q8_0: return {32, 32, 2, 2};     // side: d
        case GgmlType::IQ4_NL: return {32, 16, 2, 2};   // side: d
        case GgmlType::Q2_K: return {256, 64, 20, 16};  // quants: qs; side: scales[16], d, dmin
        case GgmlType::Q3_K: return {256, 96, 14, 0};   // quants: hmask[32], qs[64]; side: scales[12], d
        case GgmlType::Q4_K: return {256, 128, 16, 16}; // side: d, dmin, scales[12]
        case GgmlType::Q5_K: return {256, 160, 16, 16}; // quants: qh[32], qs[128]; side: d, dmin, scales[12]
        case GgmlType::Q6_K: return {256, 192, 18, 0};  // quants: ql[128], qh[64]; side: scales[16], d
        case GgmlType::IQ4_XS: return {256, 128, 8, 8}; // side: d, scales_h, scales_l[4]
        default: return {0, 0, 0, 0};
    }
}

// Blocks per row in kLayoutRows (plain floats: 16-byte groups, the last one zero-padded).
LLCUDA_HD constexpr uint64_t rows_blocks_per_row(GgmlType t, uint64_t n_cols) {
    const RowsGeom g = rows_geom(t);
    return (n_cols + g.elems - 1) / g.elems;
}

// ---- kLayoutTile4 ---------------------------------------------------------------------------

inline constexpr uint32_t kTileRows = 16;
inline constexpr uint32_t kTileCols = 64;        // one 512-byte chunk
inline constexpr uint32_t kTileChunkBytes = 512;

LLCUDA_HD uint64_t tile4_row_tiles(uint64_t n_rows) { return (n_rows + kTileRows - 1) / kTileRows; }
LLCUDA_HD uint64_t tile4_chunks(uint64_t n_cols) { return (n_cols + kTileCols - 1) / kTileCols; }

// Where the 4-bit code of element (rr, kk) of one chunk lives: rr = row within the tile (0..15),
// kk = column within the chunk (0..63). Returns the byte offset within the 512-byte chunk and sets
// `shift` to the nibble's bit position in that byte.
//
// Lane L = 4g + t owns rows g and g+8 and, in each k16-step s, columns 2t, 2t+1, 2t+8, 2t+9 (the
// mma.m16n8k16 A-fragment). Its u32 for step s holds 8 nibbles p = 0..7 at bits 4p:
//   p0 (g, 2t)  p1 (g+8, 2t)  p2 (g, 2t+8)  p3 (g+8, 2t+8)
//   p4 (g, 2t+1) p5 (g+8, 2t+1) p6 (g, 2t+9) p7 (g+8, 2t+9)
// so that (w & 0x000F000F), (w & 0x00F000F0), (w >> 8) & 0x000F000F and (w >> 8) & 0x00F000F0 are
// the four A registers (row g / row g+8, columns 2t..2t+1 / 2t+8..2t+9) as f16 pairs once OR-ed
// with the f16 exponent of 1024.
LLCUDA_HD uint32_t tile4_nibble(uint32_t rr, uint32_t kk, uint32_t& shift) {
    const uint32_t g = rr & 7, row_hi = rr >> 3;
    const uint32_t s = kk >> 4, k = kk & 15;
    const uint32_t t = (k & 7) >> 1, odd = k & 1, plus8 = k >> 3;
    const uint32_t p = row_hi + 2 * plus8 + 4 * odd;
    const uint32_t lane = 4 * g + t;
    shift = 4 * (p & 1);
    return lane * 16 + s * 4 + (p >> 1);
}

// Q4_0 side array: per tile and chunk, 8 entries (g = 0..7) of 8 bytes:
//   {half2(d[g][2c], d[g+8][2c]), half2(d[g][2c+1], d[g+8][2c+1])}  (d of the chunk's two blocks).
// Returns the byte offset, within the tile-chunk's 64 bytes, of the f16 d of row rr, block half bh.
LLCUDA_HD uint32_t tile4_q4_0_scale(uint32_t rr, uint32_t bh) {
    return (rr & 7) * 8 + bh * 4 + (rr >> 3) * 2;
}
inline constexpr uint32_t kTileQ4_0ScaleBytes = 64;  // per tile and chunk

// Q4_K side array: per tile and super-block, 16 rows x 16 bytes (the block's d, dmin, scales[12]).
inline constexpr uint32_t kTileQ4_KHeadBytes = 16 * 16;  // per tile and super-block

}  // namespace llcuda::cuda
