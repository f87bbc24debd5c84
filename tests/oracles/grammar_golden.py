#!/usr/bin/env python3
"""Golden allowed-token sets for the grammar matcher, computed by llama.cpp's grammar sampler (the
`llama-cpp-python` package: llama_sampler_init_grammar + llama_sampler_apply on every token of
SmolLM2-135M's 49152-token vocabulary, loaded vocab-only).

For each grammar, a few seeded walks: at every step the set of tokens llama.cpp leaves finite is
recorded, then one of them (not end-of-generation) is drawn at random and accepted
(llama_sampler_accept). The C++ test (tests/grammar/golden_test.cpp) replays the same tokens
through grammar::Matcher and compares the sets. Control tokens (<|im_start|> ...) are left out of
the recorded sets (end-of-generation ids stay): llama.cpp matches their text against the grammar,
llcuda never lets a grammar produce them. llama.cpp never allows a token whose text starts with a
NUL byte (it reads pieces as C strings); the C++ test leaves those out of llcuda's sets too.

Each set is stored as its size and FNV-1a hash, and as sorted [first, last] id ranges of the
allowed tokens (or of the disallowed ones) when one side has at most MAX_LISTED ids.
Writes tests/golden/grammar/llama_cpp_masks.json.
Needs: pip install -r tests/oracles/requirements.txt (llama-cpp-python).
Regenerate: python3 tests/oracles/grammar_golden.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]
"""
import ctypes
import json
import math
import random
import sys
from importlib.metadata import version
from pathlib import Path

import llama_cpp as L

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "golden" / "grammar" / "llama_cpp_masks.json"
MODEL = Path.home() / ".cache" / "llcuda" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"

GRAMMARS = {
    # llama.cpp's grammars/json.gbnf, whitespace bounded
    "json": r'''root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array  ::= "[" ws ( value ("," ws value)* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws
ws ::= | " " | "\n" [ \t]{0,20}
''',
    # multi-byte classes, negation, a 4-byte literal: tokens ending inside a character
    "unicode": r'''root ::= ( [α-ω] | [^a-z\x00-\x7F] | "😀x" | [a-c]{2} | " " )+ "."
''',
    # counted repetitions and alternatives of literals sharing prefixes
    "counts": r'''root ::= item ("," " "? item){1,4}
item ::= "id-" [0-9]{2,4} | "name" ":" [A-Z] [a-z]{0,6} | "yes" | "yesterday" | "y"
''',
    # free text up to a newline, then a fixed ending
    "line": r'''root ::= [^\n]{1,40} "\n" "END"
''',
}
WALKS = 3
STEPS = 16


class TokenArray:
    def __init__(self, n):
        self.n = n
        self.buf = (L.llama_token_data * n)()
        self.arr = L.llama_token_data_array(data=ctypes.cast(self.buf, L.llama_token_data_p), size=n, selected=-1,
                                            sorted=False)

    def reset(self):
        for i in range(self.n):
            self.buf[i].id = i
            self.buf[i].logit = 0.0
            self.buf[i].p = 0.0
        self.arr.size = self.n
        self.arr.selected = -1
        self.arr.sorted = False

    def finite(self):
        data = ctypes.cast(self.arr.data, ctypes.POINTER(L.llama_token_data * self.arr.size)).contents
        return sorted(d.id for d in data if not math.isinf(d.logit))


MAX_LISTED = 2000  # larger sets are stored as their size and hash only


def fnv1a64(ids):
    """FNV-1a (64-bit) over the sorted ids as little-endian uint32: the C++ test computes the same."""
    h = 0xCBF29CE484222325
    for i in ids:
        for b in int(i).to_bytes(4, "little"):
            h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def piece(vocab, t):
    buf = ctypes.create_string_buffer(64)
    k = L.llama_token_to_piece(vocab, t, buf, len(buf), 0, True)
    return buf.raw[:k] if k > 0 else b""


def ranges(ids):
    out = []
    for i in ids:
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def main():
    model_path = Path(sys.argv[1]) if len(sys.argv) > 1 else MODEL
    L.llama_backend_init()
    params = L.llama_model_default_params()
    params.vocab_only = True
    model = L.llama_model_load_from_file(str(model_path).encode(), params)
    vocab = L.llama_model_get_vocab(model)
    n = L.llama_vocab_n_tokens(vocab)
    eog = [t for t in range(n) if L.llama_vocab_is_eog(vocab, t)]
    control = [t for t in range(n) if L.llama_vocab_is_control(vocab, t)]
    # The single-byte token 0xED: after it llama.cpp accepts the continuations A0-BF, which encode
    # surrogates (not UTF-8); llcuda does not. Walks do not stop there (tests/grammar covers it).
    lone_ed = {t for t in range(n) if piece(vocab, t) == b"\xed"}
    text_free = set(control) - set(eog)  # control tokens other than end-of-generation: not compared
    arr = TokenArray(n)
    cases = []
    for name, gbnf in GRAMMARS.items():
        for walk in range(WALKS):
            rng = random.Random(f"{name}-{walk}")
            smpl = L.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
            assert smpl, f"llama.cpp refused grammar {name}"
            tokens, steps = [], []
            for _ in range(STEPS):
                arr.reset()
                L.llama_sampler_apply(smpl, ctypes.byref(arr.arr))
                allowed = [t for t in arr.finite() if t not in text_free]
                allowed_set = set(allowed)
                disallowed = [t for t in range(n) if t not in allowed_set]
                step = {"n_allowed": len(allowed), "fnv1a64": fnv1a64(allowed)}
                if len(allowed) <= MAX_LISTED:
                    step["allowed"] = ranges(allowed)
                elif len(disallowed) <= MAX_LISTED:
                    step["disallowed"] = ranges(disallowed)
                steps.append(step)
                choices = [t for t in allowed if t not in eog and t not in lone_ed]
                if not choices:
                    break
                # Biased to low ids (short, common tokens) so that walks leave strings and reach
                # the grammar's later parts instead of wandering in free text.
                t = choices[int(len(choices) * rng.random() ** 6)]
                L.llama_sampler_accept(smpl, t)
                tokens.append(t)
            L.llama_sampler_free(smpl)
            cases.append({"grammar": name, "walk": walk, "tokens": tokens, "steps": steps})
    L.llama_model_free(model)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc = {"generator": f"tests/oracles/grammar_golden.py with llama-cpp-python {version('llama_cpp_python')}",
           "model": model_path.name, "n_vocab": n, "eog": eog, "control": control,
           "grammars": GRAMMARS, "cases": cases}
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(cases)} walks)")


if __name__ == "__main__":
    main()
