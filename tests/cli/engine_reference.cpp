// What the engine itself answers, for the CLI tests to compare `llcuda` with. Public API only
// (llcuda/engine.h), so it also shows that API is enough for these jobs. Loads models with the
// default options the CLI uses (backend, threads), so both run the same arithmetic. Prints JSON.
//
//   engine_reference greedy MODEL N PROMPT             {"text", "backend"}: infer(PROMPT), greedy, N tokens at most
//   engine_reference chat MODEL N [--system S] MESSAGE...  {"replies"}: one greedy chat turn per user message
//   engine_reference next_logprobs MODEL CTX ID...     {"logprobs"}: log p(ID[i+1] | ID[0..i]) for each i
//   engine_reference rows MODEL ID...                  {"rows"}: the full log-softmax row after each id
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "llcuda/engine.h"
#include "llcuda/error.h"

namespace {

llcuda::InferenceEngine load(const std::string& path, uint32_t ctx) {
    llcuda::InferenceEngine engine;
    llcuda::LoadOptions o;
    o.context_length = ctx;  // 0: the model's own, as `llcuda run` without -c
    engine.load_model(path, o);
    return engine;
}

llcuda::SamplingParams greedy(uint32_t n) {
    llcuda::SamplingParams p;
    p.temperature = 0;
    p.max_tokens = n;
    return p;
}

std::vector<int32_t> ids_from(int argc, char** argv, int first) {
    std::vector<int32_t> ids;
    for (int i = first; i < argc; ++i) ids.push_back(std::stoi(argv[i]));
    return ids;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: engine_reference (greedy|chat|next_logprobs|rows) MODEL ...\n");
        return 2;
    }
    const std::string mode = argv[1], model = argv[2];
    nlohmann::json out;
    try {
        if (mode == "greedy" && argc == 5) {
            auto engine = load(model, 0);
            out["text"] = engine.infer(argv[4], greedy(uint32_t(std::stoul(argv[3])))).text;
            out["backend"] = engine.model_info().backend;
        } else if (mode == "chat" && argc >= 5) {
            auto engine = load(model, 0);
            std::vector<llcuda::ChatMessage> messages;
            int first = 4;
            if (std::string(argv[4]) == "--system" && argc >= 6) {
                messages.push_back({"system", argv[5]});
                first = 6;
            }
            for (int i = first; i < argc; ++i) {
                messages.push_back({"user", argv[i]});
                const std::string reply = engine.chat(messages, greedy(uint32_t(std::stoul(argv[3])))).text;
                messages.push_back({"assistant", reply});
                out["replies"].push_back(reply);
            }
        } else if (mode == "next_logprobs" && argc >= 6) {
            auto engine = load(model, uint32_t(std::stoul(argv[3])));
            const std::vector<int32_t> ids = ids_from(argc, argv, 4);
            std::vector<double> logprobs;
            engine.score(ids, [&](uint32_t i, const float* row) {
                if (i + 1 < ids.size()) logprobs.push_back(row[ids[i + 1]]);
            });
            out["logprobs"] = logprobs;
        } else if (mode == "rows") {
            auto engine = load(model, 0);
            const std::vector<int32_t> ids = ids_from(argc, argv, 3);
            const uint32_t n_vocab = engine.model_info().n_vocab;
            out["rows"] = nlohmann::json::array();
            engine.score(ids, [&](uint32_t, const float* row) { out["rows"].push_back(std::vector<float>(row, row + n_vocab)); });
        } else {
            std::fprintf(stderr, "engine_reference: bad arguments for '%s'\n", mode.c_str());
            return 2;
        }
    } catch (const llcuda::Error& e) {
        std::fprintf(stderr, "engine_reference: %s\n", e.what());
        return 1;
    }
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
}
