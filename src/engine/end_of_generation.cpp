#include "engine/end_of_generation.h"

#include <algorithm>

namespace llcuda {

namespace {
constexpr const char* kEndOfTurnTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                           "<|endoftext|>", "<|end_of_text|>", "<|eom_id|>"};
}

std::vector<int32_t> end_of_generation_ids(const GgufContents* gguf, const Tokenizer& tokenizer) {
    std::vector<int32_t> ids;
    auto add = [&](int64_t id) {
        if (id >= 0 && uint64_t(id) < tokenizer.n_vocab() && std::find(ids.begin(), ids.end(), id) == ids.end()) {
            ids.push_back(int32_t(id));
        }
    };
    if (gguf) {
        for (const char* key : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
            if (gguf->has(key)) add(gguf->get_integer(key));
        }
    } else {
        add(tokenizer.eos_id());
    }
    for (const char* text : kEndOfTurnTexts) {
        const int32_t id = tokenizer.token_id(text);
        if (id >= 0 && tokenizer.is_special(id)) add(id);
    }
    return ids;
}

}  // namespace llcuda
