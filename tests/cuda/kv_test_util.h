// Host-side helpers for the KV-cache op cases (rope_kv_cases.cu, attention_cases.cu): ragged
// batches with shuffled page tables, and encoding/decoding cache slots in the device layout
// (src/backend/cuda/ops_kv.cuh) on the host. Q8_0 blocks are made by llcuda::quantize, so the
// device writer is checked against the library's own quantizer, not against a copy of itself.
#pragma once

#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <span>
#include <vector>

#include "backend/cuda/kernels.h"
#include "harness.h"
#include "llcuda/quantize.h"

namespace llcuda::cuda::test {

// One sequence of a batch: n_new tokens at positions [start, start + n_new).
struct SeqSpec {
    uint32_t start = 0;
    uint32_t n_new = 1;
};

// A ragged batch on the host and the device. Tokens are grouped by sequence in spec order unless
// `interleave`, which deals them out round-robin (a legal, if unusual, order that makes the
// kernels' same-sequence runs short).
struct TestBatch {
    std::vector<SeqSpec> seqs;
    uint32_t block_size = 16, table_stride = 0, n_blocks = 0, max_kv_len = 0;
    bool report_seqs = true;  // view() fills DeviceBatch::n_seqs (else 0: unknown)
    std::vector<int32_t> token_pos, token_seq, page_tables;  // (n_tokens), (n_tokens), (n_seqs, table_stride)
    std::unique_ptr<DeviceArray<int32_t>> d_pos, d_seq, d_tables;

    uint32_t n_tokens() const { return uint32_t(token_pos.size()); }
    uint64_t slot(uint32_t seq, uint32_t pos) const {
        return uint64_t(page_tables[uint64_t(seq) * table_stride + pos / block_size]) * block_size + pos % block_size;
    }
    DeviceBatch view() const {
        DeviceBatch b;
        b.n_tokens = n_tokens();
        b.token_pos = d_pos->get();
        b.token_seq = d_seq->get();
        b.page_tables = d_tables->get();
        b.table_stride = table_stride;
        b.block_size = block_size;
        b.max_kv_len = max_kv_len;
        b.n_seqs = report_seqs ? uint32_t(seqs.size()) : 0;
        return b;
    }
};

namespace detail {
inline void fill_tokens(TestBatch& b, const std::vector<SeqSpec>& spans, bool interleave) {
    uint32_t longest = 0;
    for (const auto& s : spans) longest = std::max(longest, s.n_new);
    auto add = [&](size_t s, uint32_t i) {
        b.token_pos.push_back(int32_t(spans[s].start + i));
        b.token_seq.push_back(int32_t(s));
    };
    if (interleave) {
        for (uint32_t i = 0; i < longest; ++i) {
            for (size_t s = 0; s < spans.size(); ++s) {
                if (i < spans[s].n_new) add(s, i);
            }
        }
    } else {
        for (size_t s = 0; s < spans.size(); ++s) {
            for (uint32_t i = 0; i < spans[s].n_new; ++i) add(s, i);
        }
    }
    b.d_pos = std::make_unique<DeviceArray<int32_t>>(b.token_pos);
    b.d_seq = std::make_unique<DeviceArray<int32_t>>(b.token_seq);
    b.d_tables = std::make_unique<DeviceArray<int32_t>>(b.page_tables);
}
}  // namespace detail

// Blocks are a shuffled permutation of [0, n_blocks) with a few spare blocks left unused, so that
// neighbouring positions of a sequence are far apart in the pool and stray reads hit poison.
inline TestBatch make_batch(const std::vector<SeqSpec>& seqs, uint32_t block_size, bool interleave = false) {
    TestBatch b;
    b.seqs = seqs;
    b.block_size = block_size;
    uint32_t total = 0;
    for (const auto& s : seqs) {
        const uint32_t need = (s.start + s.n_new + block_size - 1) / block_size;
        b.table_stride = std::max(b.table_stride, need);
        total += need;
        b.max_kv_len = std::max(b.max_kv_len, s.start + s.n_new);
    }
    b.n_blocks = total + 3;
    std::vector<int32_t> ids(b.n_blocks);
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), test_rng());
    b.page_tables.assign(uint64_t(seqs.size()) * b.table_stride, -1);
    uint32_t next = 0;
    for (size_t s = 0; s < seqs.size(); ++s) {
        const uint32_t need = (seqs[s].start + seqs[s].n_new + block_size - 1) / block_size;
        for (uint32_t i = 0; i < need; ++i) b.page_tables[s * b.table_stride + i] = ids[next++];
    }
    detail::fill_tokens(b, seqs, interleave);
    return b;
}

// Other tokens of the same sequences and page tables (e.g. the history before `layout`'s tokens);
// spans[s] must lie within what layout's sequence s covers.
inline TestBatch make_batch_like(const TestBatch& layout, const std::vector<SeqSpec>& spans) {
    TestBatch b;
    b.seqs = spans;
    b.block_size = layout.block_size;
    b.table_stride = layout.table_stride;
    b.n_blocks = layout.n_blocks;
    b.page_tables = layout.page_tables;
    for (const auto& s : spans) b.max_kv_len = std::max(b.max_kv_len, s.start + s.n_new);
    detail::fill_tokens(b, spans, false);
    return b;
}

// One pool (K or V) of one layer, mirrored on the host in the device's byte layout.
struct HostPool {
    KvType type = KvType::F16;
    uint32_t n_head_kv = 0, head_dim = 0;
    uint64_t slot_bytes = 0;
    std::vector<uint8_t> bytes;

    HostPool(KvType t, uint32_t n_kv, uint32_t hd, uint64_t n_slots)
        : type(t), n_head_kv(n_kv), head_dim(hd), slot_bytes(kv_slot_bytes(t, n_kv, hd)),
          bytes(n_slots * slot_bytes, 0xFF) {}  // 0xFF: NaN halves and NaN q8_0 scales

    uint8_t* slot_ptr(uint64_t slot) { return bytes.data() + slot * slot_bytes; }
    const uint8_t* slot_ptr(uint64_t slot) const { return bytes.data() + slot * slot_bytes; }

    // Writes one slot (n_head_kv x head_dim floats, head-major).
    void encode(uint64_t slot, const float* x) {
        uint8_t* p = slot_ptr(slot);
        const uint64_t n = uint64_t(n_head_kv) * head_dim;
        if (type == KvType::F16) {
            for (uint64_t i = 0; i < n; ++i) {
                const __half h = __float2half_rn(x[i]);
                std::memcpy(p + 2 * i, &h, 2);
            }
            return;
        }
        // llcuda::quantize writes ggml blocks (f16 scale, 32 int8); the device keeps quants and
        // scales in separate regions of the slot.
        place_q8(slot, quantize(GgmlType::Q8_0, std::span<const float>(x, n), n).data());
    }
    // Moves one row of ggml Q8_0 blocks (f16 scale, 32 int8 each) into the slot's two regions.
    void place_q8(uint64_t slot, const uint8_t* blocks) {
        uint8_t* p = slot_ptr(slot);
        const uint64_t n = uint64_t(n_head_kv) * head_dim;
        for (uint64_t b = 0; b < n / 32; ++b) {
            std::memcpy(p + n + 2 * b, blocks + b * 34, 2);
            std::memcpy(p + 32 * b, blocks + b * 34 + 2, 32);
        }
    }
    // Writes rows x (slots.size() x n_head_kv x head_dim floats) into the given slots, quantizing
    // all of them in one llcuda::quantize call.
    void encode_many(const std::vector<uint64_t>& slots, const float* x) {
        const uint64_t n = uint64_t(n_head_kv) * head_dim;
        if (type == KvType::F16) {
            for (size_t r = 0; r < slots.size(); ++r) encode(slots[r], x + r * n);
            return;
        }
        const std::vector<uint8_t> q = quantize(GgmlType::Q8_0, std::span<const float>(x, slots.size() * n), n);
        const uint64_t row_bytes = n / 32 * 34;
        for (size_t r = 0; r < slots.size(); ++r) place_q8(slots[r], &q[r * row_bytes]);
    }
    // Reads one slot back as floats.
    void decode(uint64_t slot, float* x) const {
        const uint8_t* p = slot_ptr(slot);
        const uint64_t n = uint64_t(n_head_kv) * head_dim;
        if (type == KvType::F16) {
            for (uint64_t i = 0; i < n; ++i) {
                __half h;
                std::memcpy(&h, p + 2 * i, 2);
                x[i] = __half2float(h);
            }
            return;
        }
        for (uint64_t i = 0; i < n; ++i) {
            __half d;
            std::memcpy(&d, p + n + 2 * (i / 32), 2);
            x[i] = float(int8_t(p[i])) * __half2float(d);
        }
    }
};

// Rounds a whole row through the cache's encoding (what attention will read back).
inline std::vector<float> through_cache(KvType type, uint32_t n_head_kv, uint32_t head_dim, const float* x) {
    HostPool pool(type, n_head_kv, head_dim, 1);
    pool.encode(0, x);
    std::vector<float> out(uint64_t(n_head_kv) * head_dim);
    pool.decode(0, out.data());
    return out;
}

inline const char* kv_name(KvType t) { return t == KvType::F16 ? "f16" : "q8_0"; }

}  // namespace llcuda::cuda::test
