#!/usr/bin/env python3
"""Golden files for tests/tokenizer, produced by Hugging Face `tokenizers` (the oracle).

For each tokenizer we write, under tests/golden/tokenizer/:
  <name>.edge.jsonl    hand-made edge cases: input bytes (hex), ids with special tokens parsed and
                       with them encoded as text, and HF's decode with and without skipping specials
  <name>.decode.jsonl  decode-only cases: prefixes of encodings that cut UTF-8 sequences, and random
                       id sequences (HF's lossy decode is the expected text)
  <name>.austen.txt    one line per line of austen.txt: "<n_ids> <fnv1a64 of ids> <decode>", where
                       <decode> is "=" when HF decodes back to the line, else fnv1a64 of HF's text
  <name>.blocks.txt    the same for blocks of 64 lines joined with "\n" (newline handling)
  <name>.random.jsonl  300 seeded random strings over Unicode classes the pre-tokenizers care about
Hashes instead of ids keep the files small (the corpus has 73k lines); the C++ test computes the
same hash, see tests/tokenizer/golden_io.h.

Tokenizers: the three tokenizer.json files of the repository's test data (tests/data), and the two
GGUF models. For a GGUF model
we *reconstruct* a tokenizer.json from its `tokenizer.ggml.*` metadata here (transformers is not
installed); the reconstruction follows what the original HF tokenizers of those models are:
  - SmolLM2 (gpt2 model, pre "smollm"): BPE with the GGUF merges, Digits(individual) + ByteLevel
    pre-tokenizer, control tokens as special added tokens.
  - Gemma-3 (llama/SentencePiece model with scores): BPE with byte fallback whose merges are derived
    from the scores the way transformers' SentencePiece converter does (all splits of a piece into
    two vocabulary pieces, ordered by the piece's score, ties by ids); " " -> "▁" normalizer;
    control tokens special, user-defined tokens non-special added tokens; BOS from add_bos_token.

Usage: tokenizer_golden.py [--models DIR] [--data DIR] [--out DIR]
(--data: the unpacked tests/data; by default scripts/prepare-test-data.sh unpacks it into build/test-data)
"""
import argparse
import json
import os
import random
import sys

import gguf
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from test_data import test_data_dir  # noqa: E402

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK = (1 << 64) - 1


def fnv_ids(ids):
    """FNV-1a over the ids as little-endian uint32 bytes (same as tests/tokenizer/golden_io.h)."""
    h = FNV_OFFSET
    for i in ids:
        for shift in (0, 8, 16, 24):
            h = ((h ^ ((i >> shift) & 0xFF)) * FNV_PRIME) & MASK
    return h


def fnv_bytes(data):
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK
    return h


# ---------------------------------------------------------------------------------------------
# GGUF -> tokenizer.json reconstruction

GPT2_REGEX = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")


# DeepSeek pre-tokenizers (the tokenizer.ggml.pre names deepseek-llm, deepseek-coder, deepseek-v3):
# sequences of isolated splits, then ByteLevel without its own regex. Same strings as
# src/tokenizer/presets.cpp; what this checks is that PCRE2 and HF's Oniguruma split alike.
DEEPSEEK_LLM_LETTERS = "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌῐ-\u1FD3ῖ-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ\U00010400-\U0001044f𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+"
DEEPSEEK_LLM_PUNCT = "\\s?[!-/:-~！-／：-～‘-‟　-。]+"
DEEPSEEK_CJK = "[一-龥ࠀ-一가-퟿]+"
DEEPSEEK_V3_MAIN = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"
DEEPSEEK_SPLITS = {
    "deepseek-llm": ["[\\r\\n]", DEEPSEEK_LLM_LETTERS, DEEPSEEK_LLM_PUNCT, "\\s+$", DEEPSEEK_CJK, "\\p{N}+"],
    "deepseek-coder": ["[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", DEEPSEEK_CJK, "\\p{N}"],
    "deepseek-v3": ["\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+", DEEPSEEK_V3_MAIN],
}


def byte_level(use_regex):
    return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": use_regex}


def pre_tokenizer_for(pre):
    if pre in ("smollm", "starcoder", "refact"):
        return {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True}, byte_level(True)]}
    if pre in ("gpt2", "gpt-2"):
        return byte_level(True)
    if pre in ("llama-bpe", "llama3"):
        return {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_REGEX}, "behavior": "Isolated", "invert": False},
            byte_level(False)]}
    if pre in DEEPSEEK_SPLITS:
        return {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": r}, "behavior": "Isolated", "invert": False}
            for r in DEEPSEEK_SPLITS[pre]] + [byte_level(False)]}
    raise SystemExit(f"oracle: no reconstruction for tokenizer.ggml.pre={pre!r}")


def read_gguf_vocab(path):
    r = gguf.GGUFReader(path)
    f = {k: v.contents() for k, v in r.fields.items() if k.startswith("tokenizer.ggml.")}
    return f


def added_tokens(tokens, types):
    out = []
    for i, (t, ty) in enumerate(zip(tokens, types)):
        if ty in (3, 4):  # control -> special, user-defined -> plain added token
            out.append({"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                        "normalized": False, "special": ty == 3})
    return out


def bos_post_processor(f, tokens):
    if not f.get("tokenizer.ggml.add_bos_token", False):
        return None
    bos = tokens[f["tokenizer.ggml.bos_token_id"]]
    return {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {bos: {"id": bos, "ids": [f["tokenizer.ggml.bos_token_id"]], "tokens": [bos]}}}


def gguf_bpe_json(f):
    tokens = f["tokenizer.ggml.tokens"]
    types = f["tokenizer.ggml.token_type"]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": added_tokens(tokens, types),
        "normalizer": None,
        "pre_tokenizer": pre_tokenizer_for(f.get("tokenizer.ggml.pre", "default")),
        "post_processor": bos_post_processor(f, tokens),
        "decoder": byte_level(True),
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": {t: i for i, t in enumerate(tokens)},
                  "merges": list(f["tokenizer.ggml.merges"])},
    }


def spm_merges(tokens, scores, types):
    """Merges of a SentencePiece BPE vocabulary, derived from scores like transformers does.

    Only normal and user-defined pieces can be the result of a merge (SentencePiece never produces
    control, unknown, unused or byte pieces by merging)."""
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = []
    for i, piece in enumerate(tokens):
        if types[i] not in (1, 4):
            continue
        local = []
        for k in range(1, len(piece)):
            left, right = piece[:k], piece[k:]
            if left in vocab and right in vocab:
                local.append((vocab[left], vocab[right], scores[i], left, right))
        local.sort(key=lambda m: (m[0], m[1]))
        merges.extend(local)
    merges.sort(key=lambda m: -m[2])  # stable: ties keep piece id order, then (left, right) ids
    return [[m[3], m[4]] for m in merges]


def gguf_spm_json(f):
    tokens = f["tokenizer.ggml.tokens"]
    types = f["tokenizer.ggml.token_type"]
    scores = f["tokenizer.ggml.scores"]
    space_prefix = f.get("tokenizer.ggml.add_space_prefix", True)
    normalizers = [{"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]
    decoders = [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"}]
    if space_prefix:
        normalizers.insert(0, {"type": "Prepend", "prepend": "\u2581"})
        decoders.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    unk = f.get("tokenizer.ggml.unknown_token_id", 0)
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": added_tokens(tokens, types),
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": None,
        "post_processor": bos_post_processor(f, tokens),
        "decoder": {"type": "Sequence", "decoders": decoders},
        "model": {"type": "BPE", "dropout": None, "unk_token": tokens[unk], "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                  "vocab": {t: i for i, t in enumerate(tokens)},
                  "merges": spm_merges(tokens, scores, types)},
    }


def tokenizer_from_gguf(path, pre=None):
    f = read_gguf_vocab(path)
    if pre is not None:  # the same vocabulary under another pre-tokenizer
        f["tokenizer.ggml.pre"] = pre
    model = f["tokenizer.ggml.model"]
    j = gguf_bpe_json(f) if model == "gpt2" else gguf_spm_json(f) if model == "llama" else None
    if j is None:
        raise SystemExit(f"oracle: unsupported tokenizer.ggml.model {model!r}")
    return Tokenizer.from_str(json.dumps(j))


# ---------------------------------------------------------------------------------------------
# Inputs

def edge_cases():
    s = [
        "", " ", "  ", "   leading spaces", "trailing spaces   ", "a  b   c    d",
        "\t", "tab\tseparated\tvalues\t", "\t\tindented\n\t\t\tdeeper",
        "line one\nline two", "\n", "\n\n\n", "crlf\r\nline\r\n", "\r", "mixed \r\n \n\r  \n",
        "0", "12", "123", "1234", "1234567890", "3.14159265358979", "1,000,000 and 20000000000000000000",
        "x1y22z333", "٣٤٥ Arabic-Indic digits and ½ ⅔ Ⅻ",
        "Hello, world!", "It's we're they've I'm you'll he'd IT'S WE'RE", "don't ſ'S k'LL",
        "emoji 😀 👍🏽 👨‍👩‍👧 🇫🇷 ❤️", "中文字符测试，你好世界。", "日本語のテキストとカタカナ", "한국어 텍스트",
        "combining: e\u0301 a\u0308 o\u0302\u0323 \u0301alone", "precomposed: é ä ộ Å Å",
        "Ω Ω K K ﬁ ﬀ ḱ \u1e0b\u0323", "Ελληνικά и кириллица", "עברית ועربي",
        "zero\u200bwidth\u200djoiner\ufeffbom", "nbsp\u00a0thin\u2009ideo\u3000space", "\u2028\u2029\u0085",
        "a" * 300, "ab" * 200, " " * 70, "\n" * 40, "!!!!!!!!!!!????????", "=" * 100, "😀" * 20,
        "<|begin_of_text|>Hello<|end_of_text|>", "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n",
        "<s>[INST] question [/INST] answer</s>", "<bos><start_of_turn>user\nhey<end_of_turn>",
        "<think>\nreasoning\n</think>\n\nanswer", "<|endoftext|><|endoftext|>", "text<s>glued</s>text",
        "< s > <|im_start| > <unk>", "<start_of_image> <|fim_prefix|>x<|fim_suffix|>",
        "def f(x):\n    return x ** 2  # square\n", "{\"key\": [1, 2, 3], 'v': None}",
        "https://example.com/path?q=1&r=%20", "user@example.org", "C:\\Windows\\path",
        "▁already▁has▁metaspace", "<0x41> is not a byte token", "\u0000nul\u0001ctl\u007f",
        "mixed 中文 and English 123 😀!", "I said \"hello\" -- and 'goodbye'...",
        "\U0001F600\U0001F601 \U00010348 \U0010FFFD",
        "Ｆｕｌｌｗｉｄｔｈ！＂ ‘quotes’ 「括弧」。、 ｱｲｳ half-width", "Ꙁ ꜢꝯꞋ 𐐀𐑏 𞤀 ℌ℘℮ Ⅻ ⓐ", "a.b,c;d:e!f?g(h)i[j]k{l}m",
        "x+y=z <tag/> @user #hash $5 100% ^_^ `code` ~tilde | \\back", "don't.Stop ABC.def 'Quote",
    ]
    cases = [x.encode("utf-8") for x in s]
    # Invalid UTF-8: HF receives Python's errors="replace" decoding (one U+FFFD per maximal subpart);
    # the C++ encoder must reject these by default and match HF in its "replace" mode.
    cases += [b"bad \xff byte", b"\xc3", b"trunc \xe2\x82", b"\xed\xa0\x80 surrogate", b"\xc0\xaf overlong",
              b"\xf4\x90\x80\x80 too big", b"ok\xe2\x82\xacok\x80\x80end"]
    return cases


def random_texts(n=300, seed=42):
    """Random strings over code points that stress pre-tokenizer classes across Unicode: spaces of
    every kind, letters and digits of many scripts, marks, symbols, emoji, controls, specials."""
    rng = random.Random(seed)
    pools = [
        " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u205f\u3000\u180e\u200b\ufeff",
        "abcxyzABCXYZ'sdtmlrev", "0123456789٠١٢۳۴५६৭௮๙໐༡၂႓០᠑᥆᧐᪀᭐᮰᱀꘠꣐꤀꧐꩐꯰０１２",
        "²³¹¼½¾ⅠⅡⅫↀ①⑳⓪❶➀〇〡〸", "àéîõüçñßøåæœÀÉÎÕÜÇÑØÅÆŒſKÅ", "αβγδΩάέήίόύώΆΐΰ", "абвгдеёжзийЁЙ",
        "\u0300\u0301\u0302\u0308\u0323\u0327\u034f\u0489\u093f\u0e31\u20dd\ufe0f\u200d",
        "中文字符日本語のカタカナ한국어ｱｲｳ", "אבגעربيةहिन्दीதமிழ்ไทย", "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~«»¿¡§¶†‡•…‰′″‹›€£¥₹",
        "😀👍🏽👨‍👩‍👧🇫🇷❤️✨🤖🫠𝄞𝔘𝕏𐍈", "\x00\x01\x1b\x7f\x9f\u00ad\u061c\u200e\u2066\ue000\U000f0000",
        "<|im_start|><|im_end|><s></s><bos><|begin_of_text|><think>",
    ]
    out = []
    for _ in range(n):
        k = rng.randint(1, 40)
        chosen = [rng.choice(pools) for _ in range(rng.randint(1, 4))]
        text = []
        while len(text) < k:
            pool = rng.choice(chosen)
            if pool.startswith("<|im_start|>"):
                text.append(rng.choice(["<|im_start|>", "<|im_end|>", "<s>", "</s>", "<bos>", "<|begin_of_text|>", "<think>"]))
            else:
                text.append(rng.choice(pool) * rng.choice([1, 1, 1, 2, 3, 7]))
        out.append("".join(text))
    return out


def write_random(tok, name, out):
    with open(os.path.join(out, f"{name}.random.jsonl"), "w", encoding="utf-8") as fh:
        for text in random_texts():
            ids = encode(tok, text, True, True)
            rec = {"input_hex": text.encode("utf-8").hex(), "ids": ids, "ids_nospecial": encode(tok, text, True, False),
                   "decoded": tok.decode(ids, skip_special_tokens=False)}
            fh.write(json.dumps(rec, ensure_ascii=True) + "\n")


def mistral_metaspace(path, split):
    """The Mistral vocabulary as newer SentencePiece-style tokenizer.json files spell it: no
    normalizer, a Metaspace pre-tokenizer. split=False: prepend "first" with the Replace/ByteFallback/
    Fuse/Strip decoder (Llama-2 style); split=True: prepend "always", split on "▁", Metaspace
    decoder. tests/tokenizer/test_metaspace.cpp applies the same edits."""
    with open(path, encoding="utf-8") as fh:
        j = json.load(fh)
    j["normalizer"] = None
    if split:
        j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
        j["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
            {"type": "ByteFallback"}, {"type": "Fuse"}]}
    else:
        j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
    return Tokenizer.from_str(json.dumps(j))


def write_meta(name, path, out):
    """bos/eos/pad ids as the source declares them: tokenizer_config.json names looked up by HF, or
    the GGUF keys read by the gguf package."""
    if path.endswith(".gguf"):
        f = read_gguf_vocab(path)
        ids = {k: int(f[f"tokenizer.ggml.{k}_token_id"]) if f"tokenizer.ggml.{k}_token_id" in f else -1
               for k in ("bos", "eos")}
        ids["pad"] = int(f.get("tokenizer.ggml.padding_token_id", -1))
    else:
        tok = Tokenizer.from_file(path)
        with open(os.path.join(os.path.dirname(path), "tokenizer_config.json")) as fh:
            cfg = json.load(fh)
        def lookup(key):
            v = cfg.get(key)
            if isinstance(v, dict):
                v = v.get("content")
            return -1 if v is None else tok.token_to_id(v)
        ids = {k: lookup(f"{k}_token") for k in ("bos", "eos", "pad")}
    with open(os.path.join(out, f"{name}.meta.json"), "w") as fh:
        json.dump(ids, fh)
        fh.write("\n")


def austen_lines(data):
    with open(os.path.join(data, "corpus", "austen.txt"), "rb") as fh:
        data = fh.read().decode("utf-8")
    return data.split("\n")


# ---------------------------------------------------------------------------------------------
# Writers

def encode(tok, text, add_special, parse_special):
    tok.encode_special_tokens = not parse_special
    ids = tok.encode(text, add_special_tokens=add_special).ids
    tok.encode_special_tokens = False
    return ids


def write_edge(tok, name, out):
    with open(os.path.join(out, f"{name}.edge.jsonl"), "w", encoding="utf-8") as fh:
        for raw in edge_cases():
            text = raw.decode("utf-8", errors="replace")
            ids = encode(tok, text, True, True)
            rec = {
                "input_hex": raw.hex(),
                "valid_utf8": text.encode("utf-8") == raw,
                "ids": ids,
                "ids_plain": encode(tok, text, False, True),
                "ids_nospecial": encode(tok, text, True, False),
                "decoded": tok.decode(ids, skip_special_tokens=False),
                "decoded_skip": tok.decode(ids, skip_special_tokens=True),
            }
            fh.write(json.dumps(rec, ensure_ascii=True) + "\n")


def write_decode(tok, name, out):
    rng = random.Random(1234)
    n = tok.get_vocab_size(with_added_tokens=True)
    seqs = []
    for text in ["é😀中👨‍👩‍👧 ok", "ñandú ☃ 𝄞 мир", "日本語 text"]:
        ids = tok.encode(text, add_special_tokens=False).ids
        seqs += [ids[:k] for k in range(1, len(ids) + 1)] + [ids[k:] for k in range(1, len(ids))]
    seqs += [[rng.randrange(n) for _ in range(rng.randint(1, 8))] for _ in range(400)]
    with open(os.path.join(out, f"{name}.decode.jsonl"), "w", encoding="utf-8") as fh:
        for ids in seqs:
            rec = {"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                   "decoded_skip": tok.decode(ids, skip_special_tokens=True)}
            fh.write(json.dumps(rec, ensure_ascii=True) + "\n")


def write_hashes(tok, texts, path):
    encs = tok.encode_batch(texts, add_special_tokens=False)
    ids_list = [e.ids for e in encs]
    decs = tok.decode_batch(ids_list, skip_special_tokens=False)
    with open(path, "w") as fh:
        for text, ids, dec in zip(texts, ids_list, decs):
            d = "=" if dec == text else f"{fnv_bytes(dec.encode('utf-8')):016x}"
            fh.write(f"{len(ids)} {fnv_ids(ids):016x} {d}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.path.expanduser("~/.cache/llcuda/models"))
    ap.add_argument("--data", default=None, help="unpacked tests/data (default: build/test-data)")
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "golden", "tokenizer"))
    ap.add_argument("--only", default=None, help="comma-separated names")
    args = ap.parse_args()
    args.data = args.data or str(test_data_dir())
    os.makedirs(args.out, exist_ok=True)

    sources = {
        "llama3": lambda: Tokenizer.from_file(os.path.join(args.data, "tokenizers", "llama3-instruct", "tokenizer.json")),
        "qwen3": lambda: Tokenizer.from_file(os.path.join(args.data, "tokenizers", "qwen3", "tokenizer.json")),
        "mistral": lambda: Tokenizer.from_file(os.path.join(args.data, "tokenizers", "mistral-7b", "tokenizer.json")),
        "smollm2": lambda: tokenizer_from_gguf(os.path.join(args.models, "SmolLM2-135M-Instruct.Q4_1.gguf")),
        "gemma3": lambda: tokenizer_from_gguf(os.path.join(args.models, "gemma-3-270m-q4_k_m.gguf")),
    }
    lines = austen_lines(args.data)
    blocks = ["\n".join(lines[i:i + 64]) for i in range(0, len(lines), 64)]
    only = set(args.only.split(",")) if args.only else None
    mistral_path = os.path.join(args.data, "tokenizers", "mistral-7b", "tokenizer.json")
    sources["mistral-metaspace"] = lambda: mistral_metaspace(mistral_path, False)
    sources["mistral-metaspace-split"] = lambda: mistral_metaspace(mistral_path, True)
    # The SmolLM2 vocabulary under each DeepSeek pre-tokenizer: edge cases and corpus blocks only.
    for pre in DEEPSEEK_SPLITS:
        sources[f"smollm2-{pre}"] = (lambda p=pre: tokenizer_from_gguf(
            os.path.join(args.models, "SmolLM2-135M-Instruct.Q4_1.gguf"), p))
    paths = {"llama3": os.path.join(args.data, "tokenizers", "llama3-instruct", "tokenizer.json"),
             "qwen3": os.path.join(args.data, "tokenizers", "qwen3", "tokenizer.json"),
             "mistral": os.path.join(args.data, "tokenizers", "mistral-7b", "tokenizer.json"),
             "smollm2": os.path.join(args.models, "SmolLM2-135M-Instruct.Q4_1.gguf"),
             "gemma3": os.path.join(args.models, "gemma-3-270m-q4_k_m.gguf")}
    for name, path in paths.items():
        if not only or name in only:
            write_meta(name, path, args.out)
    for name, make in sources.items():
        if only and name not in only:
            continue
        print(f"{name}...", file=sys.stderr, flush=True)
        tok = make()
        write_edge(tok, name, args.out)
        write_random(tok, name, args.out)
        write_hashes(tok, blocks, os.path.join(args.out, f"{name}.blocks.txt"))
        if "-" not in name:  # variants: edge, random and block files only
            write_decode(tok, name, args.out)
            write_hashes(tok, lines, os.path.join(args.out, f"{name}.austen.txt"))


if __name__ == "__main__":
    main()
