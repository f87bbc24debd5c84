// libFuzzer target for the GGUF parser: any input must either parse or raise llcuda::Error.
// Anything else (a crash, a sanitizer report, another exception, a timeout, a huge allocation)
// is a finding. Build and run: tests/fuzz/run_gguf_fuzz.sh.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "gguf/describe.h"
#include "gguf/summary.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const llcuda::GgufContents contents = llcuda::parse_gguf({data, size}, "fuzz");
        // Exercise what `llcuda inspect` does with a parsed file.
        const llcuda::ModelSummary summary = llcuda::summarize_model(contents);
        (void)summary;
        for (const auto& kv : contents.kvs) {
            (void)llcuda::describe_value(kv.value);
            (void)llcuda::value_to_json(kv.value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
        for (const auto& t : contents.tensors) (void)llcuda::ggml_row_bytes(t.type, t.ne[0]);
    } catch (const llcuda::Error&) {
        // rejected cleanly
    }
    return 0;
}
