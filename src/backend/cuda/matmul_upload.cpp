// Weight upload: the host rewrites each GGUF matrix into the layout of matmul_layout.h (the file in
// the memory map is only read) and copies it to the device in one allocation.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/gemm_rows.h"
#include "backend/cuda/gemm_tile4.h"
#include "backend/cuda/matmul_internal.h"
#include "backend/cuda/matmul_layout.h"
#include "llcuda/error.h"

namespace llcuda::cuda {
namespace {

uint64_t round_up(uint64_t v, uint64_t m) { return (v + m - 1) / m * m; }

// Runs fn(begin, end) over [0, n) split across a few threads (repacking an 8B model's 5 GB on one
// core takes several seconds; the work is independent per row or row tile).
template <class Fn>
void parallel_ranges(uint64_t n, Fn fn) {
    const unsigned hw = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
    const uint64_t n_threads = std::min<uint64_t>(hw, std::max<uint64_t>(1, n / 64));
    if (n_threads <= 1) {
        fn(uint64_t(0), n);
        return;
    }
    std::vector<std::thread> threads;
    const uint64_t per = (n + n_threads - 1) / n_threads;
    for (uint64_t i = 0; i < n_threads; ++i) {
        const uint64_t b = i * per, e = std::min(n, b + per);
        if (b < e) threads.emplace_back([=] { fn(b, e); });
    }
    for (auto& t : threads) t.join();
}

// kLayoutRows: quant bytes of every block row after row, side bytes in a second array.
std::vector<uint8_t> repack_rows(const MatrixView& m, uint64_t& aux_offset) {
    const RowsGeom g = rows_geom(m.type);
    const uint64_t nb = rows_blocks_per_row(m.type, m.n_cols);
    const uint64_t quant_bytes = m.n_rows * nb * g.qb;
    aux_offset = round_up(quant_bytes, 256);
    std::vector<uint8_t> out(aux_offset + m.n_rows * nb * g.sb + 16, 0);
    const bool plain = g.sb == 0;
    const uint32_t type_size = ggml_type_info(m.type).type_size;
    parallel_ranges(m.n_rows, [&](uint64_t r0, uint64_t r1) {
        for (uint64_t r = r0; r < r1; ++r) {
            const uint8_t* src = m.row(r);
            uint8_t* q = out.data() + r * nb * g.qb;
            if (plain) {  // floats: the row as it is, zero-padded to 16 bytes
                std::memcpy(q, src, m.row_bytes);
                continue;
            }
            uint8_t* s = out.data() + aux_offset + r * nb * g.sb;
            for (uint64_t b = 0; b < nb; ++b, src += type_size, q += g.qb, s += g.sb) {
                std::memcpy(q, src + g.qoff, g.qb);
                std::memcpy(s, src, g.qoff);
                std::memcpy(s + g.qoff, src + g.qoff + g.qb, type_size - g.qoff - g.qb);  // sb = type_size - qb
            }
        }
    });
    return out;
}

// Offset and shift of every (row-in-tile, column-in-chunk) nibble, computed once.
struct NibbleTable {
    uint16_t off[kTileRows][kTileCols];
    uint8_t shift[kTileRows][kTileCols];
    NibbleTable() {
        for (uint32_t rr = 0; rr < kTileRows; ++rr)
            for (uint32_t kk = 0; kk < kTileCols; ++kk) {
                uint32_t sh = 0;
                off[rr][kk] = uint16_t(tile4_nibble(rr, kk, sh));
                shift[rr][kk] = uint8_t(sh);
            }
    }
};

// kLayoutTile4 for Q4_0 (32-value blocks {d, qs[16]}) and Q4_K (256-value blocks {d, dmin,
// scales[12], qs[128]}); the 4-bit codes move to mma-fragment order, scales to the side array.
std::vector<uint8_t> repack_tile4(const MatrixView& m, uint64_t& aux_offset) {
    static const NibbleTable table;
    const bool is_q4k = m.type == GgmlType::Q4_K;
    const uint64_t n_rt = tile4_row_tiles(m.n_rows);
    const uint64_t n_c = tile4_chunks(m.n_cols);
    const uint64_t quant_bytes = n_rt * n_c * kTileChunkBytes;
    aux_offset = round_up(quant_bytes, 256);
    const uint64_t side_bytes = is_q4k ? n_rt * (n_c / 4) * kTileQ4_KHeadBytes : n_rt * n_c * kTileQ4_0ScaleBytes;
    std::vector<uint8_t> out(aux_offset + side_bytes + 16, 0);
    const uint32_t type_size = ggml_type_info(m.type).type_size;
    parallel_ranges(n_rt, [&](uint64_t t0, uint64_t t1) {
        for (uint64_t rt = t0; rt < t1; ++rt) {
            for (uint32_t rr = 0; rr < kTileRows; ++rr) {
                const uint64_t r = rt * kTileRows + rr;
                if (r >= m.n_rows) break;  // padding rows stay zero
                const uint8_t* src = m.row(r);
                if (!is_q4k) {
                    for (uint64_t b = 0; b < m.n_cols / 32; ++b, src += type_size) {
                        const uint64_t c = b / 2;
                        const uint32_t bh = uint32_t(b % 2);
                        uint8_t* chunk = out.data() + (rt * n_c + c) * kTileChunkBytes;
                        uint8_t* sc = out.data() + aux_offset + (rt * n_c + c) * kTileQ4_0ScaleBytes;
                        std::memcpy(sc + tile4_q4_0_scale(rr, bh), src, 2);
                        const uint8_t* qs = src + 2;
                        for (uint32_t j = 0; j < 32; ++j) {
                            const uint32_t code = j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
                            const uint32_t kk = 32 * bh + j;
                            chunk[table.off[rr][kk]] |= uint8_t(code << table.shift[rr][kk]);
                        }
                    }
                } else {
                    for (uint64_t sb = 0; sb < m.n_cols / 256; ++sb, src += type_size) {
                        uint8_t* head = out.data() + aux_offset + (rt * (n_c / 4) + sb) * kTileQ4_KHeadBytes + rr * 16;
                        std::memcpy(head, src, 16);
                        const uint8_t* qs = src + 16;
                        for (uint32_t e = 0; e < 256; ++e) {
                            const uint32_t rem = e % 64;
                            const uint8_t byte = qs[32 * (e / 64) + rem % 32];
                            const uint32_t code = rem < 32 ? (byte & 0xF) : (byte >> 4);
                            uint8_t* chunk = out.data() + (rt * n_c + sb * 4 + e / 64) * kTileChunkBytes;
                            chunk[table.off[rr][rem]] |= uint8_t(code << table.shift[rr][rem]);
                        }
                    }
                }
            }
        }
    });
    return out;
}

}  // namespace

bool weight_type_supported(GgmlType type) {
    switch (type) {
        case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16:
        case GgmlType::Q8_0: case GgmlType::Q4_0: case GgmlType::Q4_1: case GgmlType::Q5_0: case GgmlType::Q5_1:
        case GgmlType::Q2_K: case GgmlType::Q3_K: case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K:
        case GgmlType::IQ4_NL: case GgmlType::IQ4_XS:
            return true;
        default:
            return false;
    }
}

int layout_for_type(GgmlType type) {
    return type == GgmlType::Q4_0 || type == GgmlType::Q4_K ? kLayoutTile4 : kLayoutRows;
}

std::string describe_matrix(const DeviceMatrix& w) {
    return fmt::format("{} matrix {}x{}", ggml_type_name(w.type), w.n_rows, w.n_cols);
}

std::vector<uint8_t> repack_matrix(const MatrixView& host, int& layout, uint64_t& aux_offset) {
    if (!weight_type_supported(host.type)) {
        throw Error(ErrorKind::Unsupported, fmt::format("tensor '{}' has weight type {}, which has no CUDA kernel",
                                                        host.name, ggml_type_name(host.type)));
    }
    if (!host.present() || host.n_rows == 0 || host.n_cols == 0) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("tensor '{}' is absent or empty", host.name));
    }
    const uint64_t block = ggml_type_info(host.type).block_size;
    if (host.n_cols % block != 0 || host.row_bytes != ggml_row_bytes(host.type, host.n_cols)) {
        throw Error(ErrorKind::FormatError, fmt::format("tensor '{}': {} columns of {} do not match its row size {}",
                                                        host.name, host.n_cols, ggml_type_name(host.type),
                                                        host.row_bytes));
    }
    layout = layout_for_type(host.type);
    return layout == kLayoutTile4 ? repack_tile4(host, aux_offset) : repack_rows(host, aux_offset);
}

DeviceMatrix upload_matrix(const MatrixView& host) {
    DeviceMatrix dm;
    std::vector<uint8_t> packed = repack_matrix(host, dm.layout, dm.aux_offset);
    dm.type = host.type;
    dm.n_rows = host.n_rows;
    dm.n_cols = host.n_cols;
    dm.bytes = packed.size();
    void* ptr = nullptr;
    const cudaError_t err = cudaMalloc(&ptr, dm.bytes);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        size_t free_b = 0, total_b = 0;
        (void)cudaMemGetInfo(&free_b, &total_b);
        throw Error(err == cudaErrorMemoryAllocation ? ErrorKind::OutOfMemory : ErrorKind::Internal,
                    fmt::format("uploading tensor '{}' ({}): cudaMalloc of {} bytes failed ({}); {} of {} bytes "
                                "of device memory free",
                                host.name, ggml_type_name(host.type), dm.bytes, cudaGetErrorString(err), free_b,
                                total_b));
    }
    dm.owner = std::shared_ptr<void>(ptr, [](void* p) { cudaFree(p); });
    dm.data = static_cast<uint8_t*>(ptr);
    CUDA_CHECK(cudaMemcpy(dm.data, packed.data(), dm.bytes, cudaMemcpyHostToDevice));
    if (dm.layout == kLayoutTile4) {
        matvec_tile4_prepare();
        if (gemm_tile4_supported()) gemm_tile4_prepare();
    }
    if (gemm_rows_supported(dm)) gemm_rows_prepare(dm);
    return dm;
}

}  // namespace llcuda::cuda
