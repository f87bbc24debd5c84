// gather_rows: the logits rows picked out of the residual stream, against a host copy.
#include <numeric>

#include "backend/cuda/kernels.h"
#include "harness.h"

namespace llcuda::cuda::test {
namespace {

CaseResult run_gather(uint32_t n_src, uint32_t n, uint32_t dim, bool timed) {
    const auto x = random_floats(uint64_t(n_src) * dim);
    std::vector<int32_t> ids(n);
    for (auto& id : ids) id = int32_t(test_rng()() % n_src);
    std::vector<float> ref(uint64_t(n) * dim);
    for (uint32_t r = 0; r < n; ++r) std::copy_n(&x[uint64_t(ids[r]) * dim], dim, &ref[uint64_t(r) * dim]);
    DeviceArray<float> dx(x), dout(ref.size());
    DeviceArray<int32_t> dids(ids);
    dout.poison();
    gather_rows(dx.get(), dids.get(), n, dim, dout.get(), nullptr);
    sync_check("gather_rows");
    CaseResult r;
    r.error = normalized_error(dout.download(), ref);
    r.bytes = 2ull * n * dim * 4;
    if (timed) r.median_us = time_median_us([&] { gather_rows(dx.get(), dids.get(), n, dim, dout.get(), nullptr); });
    return r;
}

std::vector<OpCase> gather_cases() {
    std::vector<OpCase> cases;
    for (auto [n_src, n, dim] : {std::tuple{528u, 17u, 4096u}, {64u, 64u, 576u}, {9u, 3u, 1001u}}) {
        cases.push_back({"gather_rows", std::to_string(n) + " of " + std::to_string(n_src) + " x" + std::to_string(dim), 0.0,
                         [=](bool timed) { return run_gather(n_src, n, dim, timed); }});
    }
    return cases;
}

}  // namespace
LLCUDA_OP_CASES(gather_cases);
}  // namespace llcuda::cuda::test
