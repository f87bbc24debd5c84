// GGUF view <-> internal description. load_vocabulary() gives `tokenizer.ggml.*` the meaning
// llama.cpp and the HF originals give it; export_vocabulary() is its inverse, so that
// from_vocabulary(t.vocabulary()) encodes like t (tested on every golden input).
#include <algorithm>
#include <limits>

#include "llcuda/error.h"
#include "tokenizer/impl.h"

namespace llcuda::tokenizer_detail {

namespace {

void load_gpt2(const Vocabulary& v, Impl& im) {
    const PrePreset preset = pre_preset(v.pre);
    im.pre = PreTokenizer(preset.steps);
    if (preset.nfc) im.normalizer.add({NormalizerStep::Kind::Nfc, "", ""});
    im.bpe.priority = BpeModel::Priority::Ranks;
    im.bpe.ignore_merges = preset.ignore_merges;
    im.merge_strings = v.merges;
    im.decoder.add({DecoderStep::Kind::ByteLevel, "", "", 0, 0});
}

void load_llama(const Vocabulary& v, Impl& im) {
    if (v.scores.size() != v.tokens.size())
        throw Error(ErrorKind::FormatError, "tokenizer: SentencePiece vocabulary needs one score per token (" +
                                                std::to_string(v.scores.size()) + " scores, " +
                                                std::to_string(v.tokens.size()) + " tokens)");
    im.scores = v.scores;
    im.bpe.priority = BpeModel::Priority::Scores;
    im.bpe.byte_fallback = true;
    im.bpe.fuse_unk = true;
    im.bpe.unk_id = v.unk_id;
    if (v.add_space_prefix) im.normalizer.add({NormalizerStep::Kind::Prepend, "\xE2\x96\x81", ""});
    im.normalizer.add({NormalizerStep::Kind::Replace, " ", "\xE2\x96\x81"});
    im.decoder.add({DecoderStep::Kind::Replace, "\xE2\x96\x81", " ", 0, 0});
    im.decoder.add({DecoderStep::Kind::ByteFallback, "", "", 0, 0});
    im.decoder.add({DecoderStep::Kind::Fuse, "", "", 0, 0});
    if (v.add_space_prefix) im.decoder.add({DecoderStep::Kind::Strip, " ", "", 1, 0});
}

}  // namespace

std::unique_ptr<Impl> load_vocabulary(const Vocabulary& v) {
    auto im = std::make_unique<Impl>();
    if (v.token_types.size() != v.tokens.size())
        throw Error(ErrorKind::FormatError, "tokenizer: " + std::to_string(v.token_types.size()) +
                                                " token types for " + std::to_string(v.tokens.size()) + " tokens");
    im->tokens = v.tokens;
    im->types = v.token_types;
    im->gguf_model = v.model;
    im->gguf_pre = v.pre;
    if (v.model == "gpt2") load_gpt2(v, *im);
    else if (v.model == "llama") load_llama(v, *im);
    else throw Error(ErrorKind::Unsupported, "tokenizer: tokenizer.ggml.model \"" + v.model +
                                                 "\" is not supported (supported: gpt2, llama)");

    // Control and unknown tokens are special (matched only with parse_special, dropped by
    // skip_special); user-defined tokens are plain added tokens, always matched.
    for (size_t i = 0; i < v.tokens.size(); ++i) {
        const TokenType t = v.token_types[i];
        if (t == TokenType::Control || t == TokenType::Unknown || t == TokenType::UserDefined)
            im->added.push_back({static_cast<int32_t>(i), v.tokens[i], t != TokenType::UserDefined});
    }
    im->bos_id = v.bos_id;
    im->eos_id = v.eos_id;
    im->pad_id = v.pad_id;
    im->unk_id = v.unk_id;
    if (v.add_bos) {
        if (v.bos_id < 0) throw Error(ErrorKind::FormatError, "tokenizer: add_bos_token is set but there is no bos_token_id");
        im->prefix_ids.push_back(v.bos_id);
    }
    if (v.add_eos) {
        if (v.eos_id < 0) throw Error(ErrorKind::FormatError, "tokenizer: add_eos_token is set but there is no eos_token_id");
        im->suffix_ids.push_back(v.eos_id);
    }
    for (int32_t id : {v.bos_id, v.eos_id, v.unk_id, v.pad_id})
        if (id >= 0) im->check_id(id, "special");
    im->finalize();
    return im;
}

namespace {

bool has_metaspace_pre(const Impl& im) {
    const auto& st = im.pre.steps();
    return st.size() == 1 && st[0].kind == PreTokenizerStep::Kind::Metaspace && st[0].replacement == "\xE2\x96\x81" &&
           !st[0].split;
}

// SentencePiece-as-BPE: byte fallback, and "▁" for spaces from a Replace normalizer (Mistral's
// file) or from a non-splitting Metaspace pre-tokenizer (newer Llama-2 style files).
bool is_spm_style(const Impl& im) {
    if (!im.bpe.byte_fallback) return false;
    if (has_metaspace_pre(im)) return im.normalizer.empty();
    return im.pre.steps().empty() &&
           std::any_of(im.normalizer.steps().begin(), im.normalizer.steps().end(), [](const auto& s) {
               return s.kind == NormalizerStep::Kind::Replace && s.a == " " && s.b == "\xE2\x96\x81";
           });
}

// SentencePiece scores from a merge list: a piece's score is minus the rank of the first merge
// that makes it, so "higher score first" orders pieces like "lower rank first" did. Pieces no
// merge makes are never merge results; they get the lowest score.
std::vector<float> scores_from_merges(const Impl& im) {
    std::vector<float> scores(im.tokens.size(), -std::numeric_limits<float>::max());
    std::vector<int32_t> best(im.tokens.size(), std::numeric_limits<int32_t>::max());
    im.bpe.merges.for_each([&](int32_t, int32_t, int32_t rank, int32_t id) { best[id] = std::min(best[id], rank); });
    for (size_t i = 0; i < scores.size(); ++i)
        if (best[i] != std::numeric_limits<int32_t>::max()) scores[i] = -static_cast<float>(best[i]);
    return scores;
}

}  // namespace

Vocabulary export_vocabulary(const Impl& im) {
    Vocabulary v;
    v.tokens = im.tokens;
    v.token_types = im.types;
    v.bos_id = im.bos_id;
    v.eos_id = im.eos_id;
    v.unk_id = im.unk_id;
    v.pad_id = im.pad_id;
    v.add_bos = !im.prefix_ids.empty();
    v.add_eos = !im.suffix_ids.empty();
    if (im.prefix_ids.size() > 1 || im.suffix_ids.size() > 1 || (v.add_bos && im.prefix_ids[0] != im.bos_id) ||
        (v.add_eos && im.suffix_ids[0] != im.eos_id))
        throw Error(ErrorKind::Unsupported, "tokenizer: the post-processor adds tokens GGUF cannot express "
                                            "(only one BOS and one EOS)");

    if (im.pre.byte_level()) {
        v.model = "gpt2";
        v.pre = im.gguf_pre.empty() ? pre_preset_name(im.pre, im.normalizer, im.bpe.ignore_merges) : im.gguf_pre;
        if (v.pre.empty())
            throw Error(ErrorKind::Unsupported, "tokenizer: this pre-tokenizer has no tokenizer.ggml.pre name");
        v.merges = im.merge_strings;
    } else if (is_spm_style(im)) {
        v.model = "llama";
        v.pre = "default";
        v.scores = im.scores.empty() ? scores_from_merges(im) : im.scores;
        // Metaspace "first" prepends only at the start of the input; GGUF (like llama.cpp) has one
        // flag that also prepends after special tokens. Plain text tokenizes the same.
        v.add_space_prefix = im.normalizer.has(NormalizerStep::Kind::Prepend) ||
                             (has_metaspace_pre(im) && im.pre.steps()[0].prepend != PreTokenizerStep::Prepend::Never);
    } else {
        throw Error(ErrorKind::Unsupported, "tokenizer: no GGUF vocabulary type matches this tokenizer");
    }
    return v;
}

}  // namespace llcuda::tokenizer_detail
