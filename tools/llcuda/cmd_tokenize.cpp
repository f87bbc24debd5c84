// llcuda tokenize (-m MODEL.gguf | --tokenizer tokenizer.json) [-p TEXT | -f FILE | --stdin]
//                 [--ids] [--json] [--no-special] [--no-bos] [--show-pieces]
// llcuda detokenize (-m ... | --tokenizer ...) [IDS... | --stdin] [--skip-special]
//
// Offsets are byte ranges [start, end) of each token's text in the detokenized output; a character
// split over several tokens (byte fallback, byte-level BPE) belongs to the token that completes it.
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "read_file.h"
#include "tokenizer_source.h"

namespace llcuda::cli {

namespace {

struct TokenizeOptions {
    TokenizerSource source;
    std::string prompt, file;
    bool from_stdin = false, ids_only = false, json = false, no_special = false, no_bos = false, pieces = false;
};

struct DetokenizeOptions {
    TokenizerSource source;
    std::vector<int64_t> ids;
    bool from_stdin = false, skip_special = false;
};

std::vector<std::pair<size_t, size_t>> token_offsets(const Tokenizer& tok, const std::vector<int32_t>& ids) {
    StreamDecoder decoder(tok);
    std::vector<std::pair<size_t, size_t>> offsets;
    size_t position = 0;
    for (int32_t id : ids) {
        const size_t start = position;
        position += decoder.push(id).size();
        offsets.emplace_back(start, position);
    }
    if (!offsets.empty()) offsets.back().second += decoder.finish().size();
    return offsets;
}

void print_one(const Tokenizer& tok, const TokenizeOptions& o, const std::string& text) {
    EncodeOptions e;
    e.add_special = !o.no_bos;
    e.parse_special = !o.no_special;
    const std::vector<int32_t> ids = tok.encode(text, e);
    if (o.json) {
        nlohmann::json j;
        j["ids"] = ids;
        std::vector<std::string> pieces;
        for (int32_t id : ids) pieces.push_back(tok.token_text(id));
        j["pieces"] = pieces;
        j["offsets"] = token_offsets(tok, ids);
        fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        return;
    }
    if (o.ids_only) {  // "12 34 ...", or with --show-pieces "12:"Hello" 34:"Ġworld" ..."
        std::string line;
        for (size_t i = 0; i < ids.size(); ++i) {
            line += (i ? " " : "") + std::to_string(ids[i]);
            if (o.pieces) {
                line += ":" + nlohmann::json(tok.token_text(ids[i])).dump(-1, ' ', false,
                                                                          nlohmann::json::error_handler_t::replace);
            }
        }
        fmt::print("{}\n", line);
        return;
    }
    const auto offsets = token_offsets(tok, ids);
    for (size_t i = 0; i < ids.size(); ++i) {  // the table always shows pieces and offsets
        {
            const std::string piece = nlohmann::json(tok.token_text(ids[i])).dump(-1, ' ', false,
                                                                                  nlohmann::json::error_handler_t::replace);
            fmt::print("{:>8}  {:<24} [{}, {})\n", ids[i], piece, offsets[i].first, offsets[i].second);
        }
    }
    fmt::print("{} tokens\n", ids.size());
}


}  // namespace

void register_tokenize(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<TokenizeOptions>();
    slot.app = app.add_subcommand("tokenize", "Show the token ids, pieces and byte offsets of a text");
    o->source.add_to(slot.app);
    slot.app->add_option("-p,--prompt", o->prompt, "Text to tokenize");
    slot.app->add_option("-f,--file", o->file, "Tokenize a file (with --json: one object per line)");
    slot.app->add_flag("--stdin", o->from_stdin, "Tokenize standard input (with --json: one object per line)");
    slot.app->add_flag("--ids", o->ids_only, "Print only the ids, space-separated");
    slot.app->add_flag("--json", o->json, "One JSON object per input line: {\"ids\", \"pieces\", \"offsets\"}");
    slot.app->add_flag("--no-special", o->no_special, "Treat special-token text as plain text");
    slot.app->add_flag("--no-bos", o->no_bos, "Do not add BOS/EOS");
    slot.app->add_flag("--show-pieces", o->pieces, "With --ids: print id:piece pairs (the table view always shows pieces)");
    slot.run = [o]() {
        const Tokenizer tok = o->source.load();
        const int n_inputs = int(!o->prompt.empty()) + int(!o->file.empty()) + int(o->from_stdin);
        if (n_inputs != 1) throw Error(ErrorKind::InvalidArgument, "give exactly one of -p TEXT, -f FILE and --stdin");
        if (!o->prompt.empty()) {
            print_one(tok, *o, o->prompt);
            return 0;
        }
        std::ifstream file;
        if (!o->file.empty()) {
            file.open(o->file, std::ios::binary);
            if (!file) throw Error(ErrorKind::NotFound, "cannot read " + o->file);
        }
        std::istream& in = o->file.empty() ? std::cin : file;
        if (!o->json) {
            print_one(tok, *o, read_stream(in));
            return 0;
        }
        std::string line;
        while (std::getline(in, line)) print_one(tok, *o, line);
        return 0;
    };
}

void register_detokenize(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<DetokenizeOptions>();
    slot.app = app.add_subcommand("detokenize", "Turn token ids back into text");
    o->source.add_to(slot.app);
    slot.app->add_option("ids", o->ids, "Token ids");
    slot.app->add_flag("--stdin", o->from_stdin, "Read whitespace-separated ids from standard input");
    slot.app->add_flag("--skip-special", o->skip_special, "Leave out special tokens");
    slot.run = [o]() {
        const Tokenizer tok = o->source.load();
        std::vector<int64_t> raw = o->ids;
        if (o->from_stdin) {
            std::string word;
            while (std::cin >> word) {
                try {
                    raw.push_back(std::stoll(word));
                } catch (const std::exception&) {
                    throw Error(ErrorKind::InvalidArgument, "'" + word + "' is not a token id");
                }
            }
        }
        std::vector<int32_t> ids;
        for (int64_t id : raw) {
            if (id < 0 || uint64_t(id) >= tok.n_vocab()) {
                throw Error(ErrorKind::InvalidArgument,
                            fmt::format("token id {} is outside the vocabulary of {} tokens", id, tok.n_vocab()));
            }
            ids.push_back(int32_t(id));
        }
        DecodeOptions d;
        d.skip_special = o->skip_special;
        fmt::print("{}\n", tok.decode(ids, d));
        return 0;
    };
}

}  // namespace llcuda::cli
