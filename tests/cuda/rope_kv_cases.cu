// rope_store_kv against cpu::rope: q rotated in place, k rotated and written with v into the paged
// cache slots of each token's position (ragged batch of three sequences, shuffled page tables).
//
// Two checks per shape and cache type, as separate cases:
//   "q":     the rotated queries (padding columns beyond the heads included, which must stay as
//            they were). Tolerance 1e-4: the angle is float(pos) * freq_scale * base^(-2i/d) in
//            float on both sides, but sin/cos differ by an ulp or two between the device and libm,
//            and at position 3000 an ulp of the angle is 2.4e-4 rad.
//   "cache": every written slot decoded on the host against the reference k (rotated on the CPU)
//            and v, both rounded through the cache encoding by host code (f16: __float2half_rn;
//            q8_0: llcuda::quantize). Tolerance 1e-3: an ulp of difference in a rotated key can
//            flip one rounding (one f16 ulp, or one q8_0 step of max|x|/127). Every slot the batch
//            does not own must still hold the 0xFF poison, else the case fails outright.
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "backend/cpu/ops.h"
#include "backend/cuda/kernels.h"
#include "harness.h"
#include "kv_test_util.h"

namespace llcuda::cuda::test {
namespace {

struct RopeShape {
    const char* name;
    uint32_t n_head, n_head_kv, head_dim, rope_dim;
    RopeStyle style;
    float base, freq_scale;
    bool factors;  // Llama-3 style rope_freqs
};

const std::vector<SeqSpec> kSeqs = {{0, 20}, {1234, 1}, {3001, 5}};  // prefill, decode, short chunk
const std::vector<SeqSpec> kDecodeOne = {{1000, 1}};                // one decode token (bench)

CaseResult run_rope(const RopeShape& sh, KvType kv_type, bool check_cache, const std::vector<SeqSpec>& seqs,
                    bool timed) {
    const TestBatch b = make_batch(seqs, 16);
    const uint32_t n = b.n_tokens(), hd = sh.head_dim;
    const uint32_t q_stride = sh.n_head * hd + 8;  // padding columns must be left alone
    const uint32_t k_stride = sh.n_head_kv * hd + 4, v_stride = sh.n_head_kv * hd;
    const std::vector<float> q = random_floats(uint64_t(n) * q_stride);
    const std::vector<float> k = random_floats(uint64_t(n) * k_stride);
    const std::vector<float> v = random_floats(uint64_t(n) * v_stride);
    const std::vector<float> factors = sh.factors ? random_floats(sh.rope_dim / 2, 1.0f, 8.0f) : std::vector<float>{};

    DeviceArray<float> dq(q), dk(k), dv(v);
    DeviceArray<float> dff(factors.empty() ? std::vector<float>{1.0f} : factors);
    const uint64_t n_slots = uint64_t(b.n_blocks) * b.block_size;
    const uint64_t kb = kv_slot_bytes(kv_type, sh.n_head_kv, hd), vb = kv_slot_bytes(kv_type, sh.n_head_kv, hd);
    DeviceArray<uint8_t> kpool(n_slots * kb), vpool(n_slots * vb);
    kpool.poison();
    vpool.poison();

    RopeParams rp;
    rp.style = sh.style;
    rp.rope_dim = sh.rope_dim;
    rp.base = sh.base;
    rp.freq_scale = sh.freq_scale;
    rp.freq_factors = factors.empty() ? nullptr : dff.get();
    const DeviceBatch db = b.view();
    const KvLayer layer{kpool.get(), vpool.get()};
    auto launch = [&] {
        rope_store_kv(dq.get(), q_stride, dk.get(), k_stride, dv.get(), v_stride, sh.n_head, sh.n_head_kv, hd, hd, rp,
                      db, layer, kv_type, nullptr);
    };
    launch();
    sync_check("rope_store_kv");

    CaseResult res;
    res.bytes = uint64_t(n) * (2 * sh.n_head * hd + 2 * sh.n_head_kv * hd) * sizeof(float) + uint64_t(n) * (kb + vb);
    const std::span<const float> ff(factors);
    if (!check_cache) {
        std::vector<float> ref = q;
        for (uint32_t t = 0; t < n; ++t) {
            cpu::rope(&ref[uint64_t(t) * q_stride], sh.n_head, hd, sh.rope_dim, sh.style, uint32_t(b.token_pos[t]),
                      sh.base, sh.freq_scale, ff);
        }
        res.error = normalized_error(dq.download(), ref);
    } else {
        HostPool got_k(kv_type, sh.n_head_kv, hd, n_slots), got_v(kv_type, sh.n_head_kv, hd, n_slots);
        got_k.bytes = kpool.download();
        got_v.bytes = vpool.download();
        std::vector<bool> owned(n_slots, false);
        std::vector<float> got, want;
        const uint64_t row = uint64_t(sh.n_head_kv) * hd;
        std::vector<float> tmp(row);
        for (uint32_t t = 0; t < n; ++t) {
            const uint64_t slot = b.slot(uint32_t(b.token_seq[t]), uint32_t(b.token_pos[t]));
            owned[slot] = true;
            std::vector<float> kr(k.begin() + uint64_t(t) * k_stride, k.begin() + uint64_t(t) * k_stride + row);
            cpu::rope(kr.data(), sh.n_head_kv, hd, sh.rope_dim, sh.style, uint32_t(b.token_pos[t]), sh.base,
                      sh.freq_scale, ff);
            const std::vector<float> kw = through_cache(kv_type, sh.n_head_kv, hd, kr.data());
            const std::vector<float> vw = through_cache(kv_type, sh.n_head_kv, hd, &v[uint64_t(t) * v_stride]);
            want.insert(want.end(), kw.begin(), kw.end());
            want.insert(want.end(), vw.begin(), vw.end());
            got_k.decode(slot, tmp.data());
            got.insert(got.end(), tmp.begin(), tmp.end());
            got_v.decode(slot, tmp.data());
            got.insert(got.end(), tmp.begin(), tmp.end());
        }
        res.error = normalized_error(got, want);
        for (uint64_t s = 0; s < n_slots; ++s) {
            if (owned[s]) continue;
            for (uint64_t i = 0; i < kb; ++i) {
                if (got_k.bytes[s * kb + i] != 0xFF || got_v.bytes[s * vb + i] != 0xFF) {
                    std::fprintf(stderr, "rope_store_kv wrote slot %llu, which no batch token owns\n",
                                 static_cast<unsigned long long>(s));
                    res.error = INFINITY;
                    s = n_slots;
                    break;
                }
            }
        }
    }
    if (timed) res.median_us = time_median_us(launch);
    return res;
}

std::vector<OpCase> rope_cases() {
    const RopeShape shapes[] = {
        {"smollm2 9/3x64 adjacent", 9, 3, 64, 64, RopeStyle::Adjacent, 100000.0f, 1.0f, false},
        {"llama3-8b 32/8x128 adjacent rope_freqs", 32, 8, 128, 128, RopeStyle::Adjacent, 500000.0f, 1.0f, true},
        {"gemma3-270m 4/1x256 neox global", 4, 1, 256, 256, RopeStyle::Neox, 1000000.0f, 1.0f, false},
        {"gemma3-270m 4/1x256 neox local", 4, 1, 256, 256, RopeStyle::Neox, 10000.0f, 1.0f, false},
        {"neox 8/2x128 rope_dim 64 scale 0.25 factors", 8, 2, 128, 64, RopeStyle::Neox, 10000.0f, 0.25f, true},
        {"adjacent 6/2x64 rope_dim 32", 6, 2, 64, 32, RopeStyle::Adjacent, 10000.0f, 1.0f, false},
        {"phi3 8/8x96 neox rope_dim 32", 8, 8, 96, 32, RopeStyle::Neox, 10000.0f, 1.0f, false},
        {"llama3.2-1b 32/8x64 adjacent rope_freqs", 32, 8, 64, 64, RopeStyle::Adjacent, 500000.0f, 1.0f, true},
    };
    std::vector<OpCase> cases;
    auto add = [&](const RopeShape& sh, KvType t, bool cache, const std::vector<SeqSpec>& seqs, const char* suffix) {
        OpCase c;
        c.family = "rope_store_kv";
        c.name = std::string(sh.name) + " kv " + kv_name(t) + (cache ? " cache" : " q") + suffix;
        c.tolerance = cache ? 1e-3 : 1e-4;
        c.run = [sh, t, cache, seqs](bool timed) { return run_rope(sh, t, cache, seqs, timed); };
        cases.push_back(std::move(c));
    };
    for (const RopeShape& sh : shapes) {
        for (const KvType t : {KvType::F16, KvType::Q8_0}) {
            for (const bool cache : {false, true}) add(sh, t, cache, kSeqs, "");
        }
    }
    // One decode token (the bench cases for n_tokens = 1): Llama-3-8B and Llama-3.2-1B.
    for (const int i : {1, 7}) {
        for (const KvType t : {KvType::F16, KvType::Q8_0}) add(shapes[i], t, true, kDecodeOne, " decode 1 token");
    }
    return cases;
}

LLCUDA_OP_CASES(rope_cases);

}  // namespace
}  // namespace llcuda::cuda::test
