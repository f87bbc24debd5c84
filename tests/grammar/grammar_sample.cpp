// Writes constrained generations as JSON lines {"text", "finish", "seed"} for the Python checks
// (check_schema_outputs.py validates them with the jsonschema package).
//
//   grammar_sample random TOKENIZER_JSON SCHEMA_FILE N MAX_TOKENS
//       N walks through the schema's grammar with the real Sampler (temperature 1, no filters)
//       on random logits: every allowed continuation gets a chance, no model needed.
//   grammar_sample model MODEL_GGUF SCHEMA_FILE N MAX_TOKENS [cpu|cuda]
//       N chat generations of the model at temperature 1 (seeds 1..N) asked for JSON. On cuda, up
//       to 64 run at once (concurrent calls, batched by the engine's scheduler); lines come out in
//       seed order either way.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/sampler.h"
#include "grammar/token_vocabulary.h"
#include "llcuda/engine.h"
#include "llcuda/error.h"
#include "llcuda/tokenizer.h"

namespace {

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void emit(const std::string& text, const char* finish, uint64_t seed) {
    nlohmann::json line = {{"text", text}, {"finish", finish}, {"seed", seed}};
    std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void random_walks(const std::string& tokenizer_path, const std::string& schema, int n, uint32_t max_tokens) {
    const auto tok = llcuda::Tokenizer::from_hf_json_file(tokenizer_path);
    const auto vocab = llcuda::grammar::build_token_vocabulary(tok, uint32_t(tok.n_vocab()), {tok.eos_id()});
    llcuda::SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.json_schema = schema;
    std::vector<float> logits(vocab->n_rows);
    for (int i = 0; i < n; ++i) {
        p.seed = uint64_t(i + 1);
        llcuda::Sampler sampler(p, vocab->n_rows, vocab);
        // Uniform logits in [-4, 4) from a cheap generator: a 151k row per token must not dominate.
        uint64_t x = uint64_t(i) * 0x9E3779B97F4A7C15ull + 1;
        std::vector<int32_t> ids;
        const char* finish = "length";
        for (uint32_t t = 0; t < max_tokens; ++t) {
            for (auto& l : logits) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                l = float(x >> 40) * (8.0f / 16777216.0f) - 4.0f;
            }
            const int32_t id = sampler.sample(logits);
            if (vocab->is_end(id)) { finish = "stop"; break; }
            sampler.accept(id);
            ids.push_back(id);
        }
        emit(tok.decode(ids), finish, uint64_t(i + 1));
    }
}

void model_runs(const std::string& model, const std::string& schema, int n, uint32_t max_tokens, const std::string& backend) {
    const bool cuda = backend == "cuda";
    if (!cuda && backend != "cpu") throw std::runtime_error("unknown backend " + backend + " (cpu or cuda)");
    const uint32_t workers = cuda ? uint32_t(std::clamp(n, 1, 64)) : 1u;
    llcuda::InferenceEngine engine;
    llcuda::LoadOptions o;
    o.backend = cuda ? llcuda::Backend::Cuda : llcuda::Backend::Cpu;
    o.context_length = 2048;  // the prompt carries the schema
    o.max_sequences = workers;
    engine.load_model(model, o);
    llcuda::SamplingParams p;
    p.temperature = 1.0f;
    p.max_tokens = max_tokens;
    p.json_schema = schema;
    const std::vector<llcuda::ChatMessage> messages = {
        {"user", "Reply with one JSON value that follows this JSON schema, nothing else:\n" + schema}};
    struct Sample {
        std::string text;
        bool stopped = false;
    };
    std::vector<Sample> samples(size_t(std::max(n, 0)));
    std::atomic<int> next{0};
    std::string error;
    std::mutex error_mutex;
    auto work = [&] {
        for (int i = next++; i < n; i = next++) {
            try {
                llcuda::SamplingParams q = p;
                q.seed = uint64_t(i + 1);
                const auto r = engine.chat(messages, q);
                samples[size_t(i)] = {r.text, r.finish_reason == llcuda::FinishReason::Stop};
            } catch (const std::exception& e) {
                std::lock_guard lock(error_mutex);
                if (error.empty()) error = e.what();
                next = n;
            }
        }
    };
    std::vector<std::thread> threads;
    for (uint32_t w = 1; w < workers; ++w) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    if (!error.empty()) throw std::runtime_error(error);
    for (int i = 0; i < n; ++i) emit(samples[size_t(i)].text, samples[size_t(i)].stopped ? "stop" : "length", uint64_t(i + 1));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6 && argc != 7) {
        std::fprintf(stderr, "usage: grammar_sample random|model TOKENIZER_OR_MODEL SCHEMA_FILE N MAX_TOKENS [cpu|cuda]\n");
        return 2;
    }
    try {
        const std::string mode = argv[1];
        const std::string schema = read_file(argv[3]);
        if (mode == "random") random_walks(argv[2], schema, std::atoi(argv[4]), uint32_t(std::atoi(argv[5])));
        else if (mode == "model") model_runs(argv[2], schema, std::atoi(argv[4]), uint32_t(std::atoi(argv[5])), argc == 7 ? argv[6] : "cpu");
        else throw std::runtime_error("unknown mode " + mode);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "grammar_sample: %s\n", e.what());
        return 1;
    }
    return 0;
}
