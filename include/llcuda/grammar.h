// Constrained generation: grammars in GBNF notation (llama.cpp's) and JSON Schema.
//
// SamplingParams::grammar takes GBNF text and SamplingParams::json_schema a JSON Schema; the
// engine compiles either into a matcher that masks every token the grammar does not allow
// (docs/grammar.md). These functions are the same conversions and checks, for callers that want
// to see or validate a grammar before generating (the CLI, the server's response_format).
#pragma once

#include <string>
#include <string_view>

namespace llcuda {

// Parses and compiles a GBNF grammar whose start rule is `root`. Throws InvalidArgument naming the
// problem, with "line L, column C" for syntax errors and undefined rules.
void check_grammar(std::string_view gbnf);

// A JSON Schema (JSON text) as a GBNF grammar whose sentences are the JSON texts the schema
// accepts (within the supported subset: docs/grammar.md). Throws InvalidArgument for malformed
// JSON or schemas, and Unsupported naming the first keyword or value outside the subset.
std::string json_schema_to_grammar(std::string_view schema_json);

// Any JSON object: what the OpenAI API's response_format {"type": "json_object"} asks for.
std::string json_object_grammar();

}  // namespace llcuda
