// GGUF metadata of a converted model: general.*, {arch}.* hyperparameters from config.json, and
// tokenizer.* from tokenizer.json / tokenizer_config.json / generation_config.json, in the key order
// convert_hf_to_gguf.py writes (docs/checkpoint-formats.md §Hyperparameters, §Order in the file).
#pragma once

#include <cstdint>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "convert/hf_arch.h"
#include "llcuda/gguf.h"

namespace llcuda::convert {

nlohmann::json read_json_file(const std::filesystem::path& path);  // NotFound / FormatError

// general.architecture, general.type, general.name (from the directory name).
void write_general(GgufWriter& w, const HfArch& arch, const std::filesystem::path& hf_dir);
// {arch}.* keys from config.json; `file_type` is the llama_ftype id written as general.file_type.
void write_hparams(GgufWriter& w, const HfArch& arch, const nlohmann::json& config, uint32_t file_type);
// tokenizer.* keys. When the tokenizer has fewer tokens than the model's `n_vocab` embedding rows,
// the list is padded with "[PAD<i>]" unused tokens (convert_hf_to_gguf.py), unless `allow_truncate`
// (gemma3: the converter cuts the embeddings instead). Returns the number of tokens written.
uint32_t write_tokenizer(GgufWriter& w, const std::filesystem::path& hf_dir, uint32_t n_vocab, bool allow_truncate);

}  // namespace llcuda::convert
