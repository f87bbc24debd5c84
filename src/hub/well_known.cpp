// The well-known model names (hub.h): short names existing llcuda users pass to load_model, plus
// the two small models the project tests with. cache_file is the name scripts/fetch-models.sh
// stores a model under, so a fetched test model is found without downloading it again.
#include "llcuda/hub.h"

namespace llcuda::hub {

const std::vector<WellKnownModel>& well_known_models() {
    static const std::vector<WellKnownModel> table = {
        {"smollm2-135m-Q4_1", "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct.Q4_1.gguf",
         "SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2 135M instruct, llcuda's built-in default"},
        {"gemma-3-270m-Q4_K_M", "unsloth/gemma-3-270m-it-GGUF", "gemma-3-270m-it-Q4_K_M.gguf",
         "gemma-3-270m-q4_k_m.gguf", "Gemma 3 270M"},
        {"gemma-3-1b-Q4_K_M", "unsloth/gemma-3-1b-it-GGUF", "gemma-3-1b-it-Q4_K_M.gguf", "", "Gemma 3 1B instruct"},
        {"gemma-3-1b-Q5_K_M", "unsloth/gemma-3-1b-it-GGUF", "gemma-3-1b-it-Q5_K_M.gguf", "",
         "Gemma 3 1B instruct, higher quality"},
        {"llama-3.1-8b-Q4_K_M", "lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF",
         "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "", "Llama 3.1 8B instruct"},
        {"llama-3.1-8b-Q5_K_M", "lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF",
         "Meta-Llama-3.1-8B-Instruct-Q5_K_M.gguf", "", "Llama 3.1 8B instruct"},
        {"phi-3-mini-Q4_K_M", "microsoft/Phi-3-mini-4k-instruct-gguf", "Phi-3-mini-4k-instruct-q4.gguf", "",
         "Phi-3 Mini 4K instruct"},
        {"mistral-7b-Q4_K_M", "TheBloke/Mistral-7B-Instruct-v0.2-GGUF", "mistral-7b-instruct-v0.2.Q4_K_M.gguf", "",
         "Mistral 7B instruct v0.2"},
        {"tinyllama-1.1b-Q5_K_M", "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF", "tinyllama-1.1b-chat-v1.0.Q5_K_M.gguf", "",
         "TinyLlama 1.1B chat"},
    };
    return table;
}

const WellKnownModel* find_well_known(std::string_view name) {
    for (const auto& m : well_known_models()) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

}  // namespace llcuda::hub
