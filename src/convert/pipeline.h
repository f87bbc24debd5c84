// The conversion pipeline shared by `llcuda convert` and `llcuda export` (HF base): open the
// checkpoint, write metadata, plan types, stream every tensor through load -> (LoRA hook) ->
// transforms -> encode into the GGUF writer, write atomically.
#pragma once

#include <filesystem>

#include "convert/hf_model.h"
#include "llcuda/convert.h"

namespace llcuda::convert {

ConvertReport run_conversion(const HfModel& model, const std::filesystem::path& output, const ConvertOptions& options,
                             const DeltaHook& hook = {});

// Prints "[ i/n] name type" lines to stderr (the CLI's default progress).
void print_progress(size_t index, size_t count, const std::string& name);

}  // namespace llcuda::convert
