// Which tokens end a generation: the ids the GGUF names (eos, eot, eom) plus the special
// end-of-turn tokens of the chat formats of the supported families. One list, used by the engine
// and by `llcuda template` when it shows what a model will stop on.
#pragma once

#include <cstdint>
#include <vector>

#include "llcuda/gguf.h"
#include "llcuda/tokenizer.h"

namespace llcuda {

// `gguf` may be null (a tokenizer.json has no such keys; its EOS id is used instead).
std::vector<int32_t> end_of_generation_ids(const GgufContents* gguf, const Tokenizer& tokenizer);

}  // namespace llcuda
