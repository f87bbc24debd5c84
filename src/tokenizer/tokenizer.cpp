// Tokenizer: the encode pipeline (added tokens -> normalizer -> pre-tokenizer -> BPE -> BOS/EOS)
// and decode, over the description in impl.h.
#include "llcuda/tokenizer.h"

#include <fstream>
#include <sstream>

#include "llcuda/error.h"
#include "tokenizer/impl.h"
#include "tokenizer/utf8.h"

namespace llcuda {

using tokenizer_detail::Impl;

namespace tokenizer_detail {

void Impl::check_id(int32_t id, const char* what) const {
    if (id < 0 || static_cast<size_t>(id) >= tokens.size())
        throw Error(ErrorKind::InvalidArgument, std::string("tokenizer: ") + what + " id " + std::to_string(id) +
                                                    " is outside the vocabulary of " + std::to_string(tokens.size()));
}

void Impl::finalize() {
    if (tokens.empty()) throw Error(ErrorKind::FormatError, "tokenizer: empty vocabulary");
    if (types.size() != tokens.size())
        throw Error(ErrorKind::FormatError, "tokenizer: " + std::to_string(types.size()) + " token types for " +
                                                std::to_string(tokens.size()) + " tokens");
    if (!scores.empty() && scores.size() != tokens.size())
        throw Error(ErrorKind::FormatError, "tokenizer: " + std::to_string(scores.size()) + " scores for " +
                                                std::to_string(tokens.size()) + " tokens");
    token_ids.clear();
    token_ids.reserve(tokens.size() * 2);
    for (size_t i = 0; i < tokens.size(); ++i) token_ids.emplace(tokens[i], static_cast<int32_t>(i));  // first wins

    for (int32_t id : prefix_ids) check_id(id, "BOS/prefix");
    for (int32_t id : suffix_ids) check_id(id, "EOS/suffix");
    for (const auto& a : added) check_id(a.id, "added token");
    if (bpe.unk_id >= 0) check_id(bpe.unk_id, "unknown-token");

    bpe.tokens = &tokens;
    bpe.scores = &scores;
    bpe.types = &types;
    bpe.token_ids = &token_ids;
    if (bpe.priority == BpeModel::Priority::Scores && scores.empty())
        throw Error(ErrorKind::FormatError, "tokenizer: SentencePiece vocabulary without scores");
    bpe.merges.clear();
    bpe.init_lookup_tables();
    if (bpe.priority == BpeModel::Priority::Scores) bpe.build_score_merges();  // (loaders keep no merge list then)
    for (size_t rank = 0; rank < merge_strings.size(); ++rank) {
        const std::string& m = merge_strings[rank];
        // The separator is the first space after the first character: a part never starts with a
        // space in byte-level form, and this is how llama.cpp splits them too.
        const size_t sep = m.find(' ', 1);
        if (sep == std::string::npos)
            throw Error(ErrorKind::FormatError, "tokenizer: merge #" + std::to_string(rank) + " \"" + m + "\" has no space");
        const std::string_view left(m.data(), sep), right(m.data() + sep + 1, m.size() - sep - 1);
        const auto l = token_ids.find(left), r = token_ids.find(right);
        const auto merged = token_ids.find(std::string(left) + std::string(right));
        if (l == token_ids.end() || r == token_ids.end() || merged == token_ids.end())
            throw Error(ErrorKind::FormatError, "tokenizer: merge #" + std::to_string(rank) + " \"" + m +
                                                    "\" uses a token that is not in the vocabulary");
        bpe.merges.insert(l->second, r->second, static_cast<int32_t>(rank), merged->second);  // first wins
    }

    special.assign(tokens.size(), 0);
    for (const auto& a : added)
        if (a.special) special[a.id] = 1;
    matcher.build(added);
}

}  // namespace tokenizer_detail

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_vocabulary(const Vocabulary& vocab) {
    return Tokenizer(tokenizer_detail::load_vocabulary(vocab));
}

Tokenizer Tokenizer::from_hf_json(std::string_view json_text) {
    return Tokenizer(tokenizer_detail::load_hf_json(json_text));
}

namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::Io, "tokenizer: cannot open " + path.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

Tokenizer Tokenizer::from_hf_json_file(const std::filesystem::path& path) {
    const std::string text = read_file(path);
    const auto config = path.parent_path() / "tokenizer_config.json";
    try {
        auto impl = tokenizer_detail::load_hf_json(text);
        if (std::filesystem::exists(config)) tokenizer_detail::apply_tokenizer_config(*impl, read_file(config));
        return Tokenizer(std::move(impl));
    } catch (const Error& e) {
        throw Error(e.kind(), path.string() + ": " + e.what());
    }
}

std::vector<int32_t> Tokenizer::encode(std::string_view input, const EncodeOptions& options) const {
    const Impl& im = *impl_;
    std::string repaired;
    std::string_view text = input;
    if (const size_t bad = tokenizer_detail::utf8_first_invalid(input); bad != std::string_view::npos) {
        if (!options.replace_invalid_utf8)
            throw Error(ErrorKind::InvalidArgument, "tokenizer: input is not valid UTF-8 (byte " +
                                                        std::to_string(bad) + ")");
        repaired = tokenizer_detail::utf8_lossy(input);
        text = repaired;
    }

    std::vector<int32_t> ids;
    if (options.add_special) ids = im.prefix_ids;
    for (const auto& seg : im.matcher.split(text, options.parse_special)) {
        if (seg.id >= 0) { ids.push_back(seg.id); continue; }
        const std::string normalized = im.normalizer.apply(seg.text);
        if (normalized.empty()) continue;
        if (im.pre.steps().empty()) {
            im.bpe.encode_word(normalized, ids);
        } else {
            // (A per-call cache of repeated words was measured: slower than merging again.)
            const bool at_start = seg.text.data() == text.data();
            for (const auto& word : im.pre.split(normalized, at_start)) im.bpe.encode_word(word, ids);
        }
    }
    if (options.add_special) ids.insert(ids.end(), im.suffix_ids.begin(), im.suffix_ids.end());
    return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, const DecodeOptions& options) const {
    const Impl& im = *impl_;
    std::vector<std::string> pieces;
    pieces.reserve(ids.size());
    for (int32_t id : ids) {
        im.check_id(id, "decoded token");
        if (options.skip_special && im.special[id]) continue;
        pieces.push_back(im.tokens[id]);
    }
    if (im.decoder.steps().empty()) {  // HF without a decoder joins tokens with spaces
        std::string out;
        for (size_t i = 0; i < pieces.size(); ++i) out += (i ? " " : "") + pieces[i];
        return out;
    }
    return im.decoder.decode(std::move(pieces));
}

Vocabulary Tokenizer::vocabulary() const { return tokenizer_detail::export_vocabulary(*impl_); }

size_t Tokenizer::n_vocab() const { return impl_->tokens.size(); }

const std::string& Tokenizer::token_text(int32_t id) const {
    impl_->check_id(id, "token");
    return impl_->tokens[id];
}

TokenType Tokenizer::token_type(int32_t id) const {
    impl_->check_id(id, "token");
    return impl_->types[id];
}

bool Tokenizer::is_special(int32_t id) const {
    impl_->check_id(id, "token");
    return impl_->special[id] != 0;
}

int32_t Tokenizer::bos_id() const { return impl_->bos_id; }
int32_t Tokenizer::eos_id() const { return impl_->eos_id; }
int32_t Tokenizer::pad_id() const { return impl_->pad_id; }

int32_t Tokenizer::token_id(std::string_view text) const {
    const auto it = impl_->token_ids.find(text);
    return it == impl_->token_ids.end() ? -1 : it->second;
}

}  // namespace llcuda
