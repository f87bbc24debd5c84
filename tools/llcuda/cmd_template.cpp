// llcuda template (-m MODEL.gguf | --template FILE | --tokenizer-config tokenizer_config.json)
//                 --messages conversation.json [--tools tools.json] [--add-generation-prompt]
//                 [--var key=value ...] [--tokens]
// Prints exactly the prompt the chat template renders to stdout; the special tokens and stop
// strings the model will use go to stderr, so `> prompt.txt` captures only the prompt.
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "read_file.h"
#include "llcuda/chat_template.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "llcuda/model_chat.h"
#include "llcuda/tokenizer.h"

namespace llcuda::cli {

namespace {

using ojson = nlohmann::ordered_json;

struct TemplateOptions {
    std::string model, template_file, tokenizer_config, messages_file, tools_file;
    std::vector<std::string> vars;
    bool add_generation_prompt = false, tokens = false;
    int64_t now_epoch = -1;  // strftime_now() time; -1: the current time
};

ojson parse_json_file(const std::string& path) {
    try {
        return ojson::parse(read_file(path));
    } catch (const nlohmann::json::parse_error& e) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("{} is not valid JSON: {}", path, e.what()));
    }
}

// A special token in tokenizer_config.json is a string or {"content": ...}.
std::string token_string(const ojson& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
    return "";
}

struct Loaded {
    std::string source;                 // template text
    std::string bos, eos;               // token texts given to the template
    std::optional<Tokenizer> tokenizer; // for --tokens and the stop list
    std::optional<GgufContents> gguf;   // the model's metadata, when the template came from a GGUF
};

Loaded load(const TemplateOptions& o) {
    const int n = int(!o.model.empty()) + int(!o.template_file.empty()) + int(!o.tokenizer_config.empty());
    if (n != 1) {
        throw Error(ErrorKind::InvalidArgument, "give exactly one of -m MODEL.gguf, --template FILE, --tokenizer-config FILE");
    }
    Loaded l;
    if (!o.model.empty()) {
        const GgufFile f = GgufFile::open(o.model);
        const GgufContents& c = f.contents();
        if (c.has("tokenizer.chat_template")) {
            l.source = c.get_string("tokenizer.chat_template");
        } else if (auto builtin = builtin_chat_template(c.get_string_or("general.architecture", ""))) {
            l.source = *builtin;
            fmt::print(stderr, "--- {} has no chat template; using llcuda's built-in one for its family\n", o.model);
        } else {
            throw Error(ErrorKind::NotFound, o.model + " has no chat template (tokenizer.chat_template is absent)");
        }
        l.tokenizer.emplace(Tokenizer::from_gguf(c));
        l.gguf = c;
    } else if (!o.template_file.empty()) {
        l.source = read_file(o.template_file);
    } else {
        const ojson config = parse_json_file(o.tokenizer_config);
        const ojson& t = config.contains("chat_template") ? config["chat_template"] : ojson();
        if (t.is_string()) {
            l.source = t.get<std::string>();
        } else if (t.is_array()) {  // [{"name": "default", "template": ...}, ...]
            for (const auto& entry : t) {
                if (entry.value("name", "") == "default") l.source = entry.value("template", "");
            }
        }
        if (l.source.empty()) throw Error(ErrorKind::NotFound, o.tokenizer_config + " has no chat_template");
        if (config.contains("bos_token")) l.bos = token_string(config["bos_token"]);
        if (config.contains("eos_token")) l.eos = token_string(config["eos_token"]);
        const auto json_path = std::filesystem::path(o.tokenizer_config).parent_path() / "tokenizer.json";
        if (std::filesystem::exists(json_path)) l.tokenizer.emplace(Tokenizer::from_hf_json_file(json_path));
    }
    if (l.tokenizer && o.tokenizer_config.empty()) {
        if (l.tokenizer->bos_id() >= 0) l.bos = l.tokenizer->token_text(l.tokenizer->bos_id());
        if (l.tokenizer->eos_id() >= 0) l.eos = l.tokenizer->token_text(l.tokenizer->eos_id());
    }
    return l;
}

}  // namespace

void register_template(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<TemplateOptions>();
    slot.app = app.add_subcommand("template", "Render a chat template: the exact prompt a model will be fed");
    slot.app->add_option("-m,--model", o->model, "GGUF model (its tokenizer.chat_template)");
    slot.app->add_option("--template", o->template_file, "A Jinja template file");
    slot.app->add_option("--tokenizer-config", o->tokenizer_config, "A Hugging Face tokenizer_config.json");
    slot.app->add_option("--messages", o->messages_file, "Conversation: a JSON array of messages (or {\"messages\": [...]})")
        ->required();
    slot.app->add_option("--tools", o->tools_file, "Tool schemas: a JSON array");
    slot.app->add_flag("--add-generation-prompt", o->add_generation_prompt, "Append the start of the assistant's turn");
    slot.app->add_option("--var", o->vars, "Extra template variable key=value (value parsed as JSON when it is JSON)");
    slot.app->add_flag("--tokens", o->tokens, "Also print the token ids of the rendered prompt");
    slot.app->add_option("--now-epoch", o->now_epoch, "Render as if the time were this many seconds since 1970 (reproducible dates)");
    slot.run = [o]() {
        Loaded l = load(*o);
        ojson messages = parse_json_file(o->messages_file);
        if (messages.is_object() && messages.contains("messages")) messages = messages["messages"];
        if (!messages.is_array()) throw Error(ErrorKind::InvalidArgument, o->messages_file + ": expected an array of messages");
        ChatRenderOptions r;
        r.add_generation_prompt = o->add_generation_prompt;
        if (!o->tools_file.empty()) r.tools = parse_json_file(o->tools_file);
        if (o->now_epoch >= 0) r.now = std::chrono::system_clock::time_point(std::chrono::seconds(o->now_epoch));
        r.extra["bos_token"] = l.bos;
        r.extra["eos_token"] = l.eos;
        for (const auto& var : o->vars) {
            const size_t eq = var.find('=');
            if (eq == std::string::npos || eq == 0) {
                throw Error(ErrorKind::InvalidArgument, "--var expects key=value, got '" + var + "'");
            }
            const std::string value = var.substr(eq + 1);
            const ojson parsed = ojson::parse(value, nullptr, /*allow_exceptions=*/false);
            r.extra[var.substr(0, eq)] = parsed.is_discarded() ? ojson(value) : parsed;
        }
        const std::string prompt = ChatTemplate::parse(l.source).apply(messages, r);
        fmt::print("{}", prompt);
        std::fflush(stdout);
        fmt::print(stderr, "\n--- bos: {}  eos: {}\n", nlohmann::json(l.bos).dump(), nlohmann::json(l.eos).dump());
        if (l.tokenizer) {
            std::vector<std::string> stops;
            for (int32_t id : end_of_generation_ids(l.gguf ? &*l.gguf : nullptr, *l.tokenizer)) {
                stops.push_back(l.tokenizer->token_text(id));
            }
            fmt::print(stderr, "--- end-of-generation tokens: {}\n", nlohmann::json(stops).dump());
        }
        if (o->tokens) {
            if (!l.tokenizer) throw Error(ErrorKind::InvalidArgument, "--tokens needs a tokenizer (-m, or a tokenizer.json next to the config)");
            EncodeOptions e;
            const int32_t bos = l.tokenizer->bos_id();
            e.add_special = !(bos >= 0 && prompt.rfind(l.tokenizer->token_text(bos), 0) == 0);
            const auto ids = l.tokenizer->encode(prompt, e);
            std::string line;
            for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
            fmt::print("\n{}\n", line);
        }
        return 0;
    };
}

}  // namespace llcuda::cli
