// Where `tokenize`, `detokenize` and `template` get a tokenizer: a GGUF model or a tokenizer.json.
#pragma once

#include <string>

#include "llcuda/error.h"
#include "llcuda/tokenizer.h"

namespace llcuda::cli {

struct TokenizerSource {
    std::string model;           // -m MODEL.gguf
    std::string tokenizer_json;  // --tokenizer tokenizer.json

    void add_to(CLI::App* app) {
        app->add_option("-m,--model", model, "GGUF model whose tokenizer to use");
        app->add_option("--tokenizer", tokenizer_json, "Hugging Face tokenizer.json");
    }
    Tokenizer load() const {
        if (model.empty() == tokenizer_json.empty()) {
            throw Error(ErrorKind::InvalidArgument, "give exactly one of -m MODEL.gguf and --tokenizer tokenizer.json");
        }
        return model.empty() ? Tokenizer::from_hf_json_file(tokenizer_json) : Tokenizer::from_gguf_file(model);
    }
};

}  // namespace llcuda::cli
