// Per-token cost of constrained sampling on a 151k-token vocabulary (Qwen3's tokenizer from
// tests/data): for a JSON schema and for a large hand-written grammar, each of `runs` generations
// starts from a fresh matcher, as a new request does, and draws up to `tokens` tokens
// from random logits through the real Sampler; the time of the allowed-token mask
// (Matcher::allowed) is recorded for every token, and the whole sample() call beside it. Requests
// with the same grammar share its compiled automaton and masks (grammar::shared_grammar), so the
// first request alone is reported too.
//
//   bench_grammar [tokenizer.json | model.gguf] [runs=20] [tokens=160]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "grammar/token_vocabulary.h"
#include "llcuda/grammar.h"
#include "llcuda/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;
double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

const char* kSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "maxLength": 40},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "email": {"type": "string", "pattern": "^[a-z0-9._]+@[a-z0-9]+\\.[a-z]{2,4}$"},
    "role": {"enum": ["admin", "user", "guest"]},
    "born": {"type": "string", "format": "date"},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 16}, "maxItems": 5},
    "address": {"type": "object", "properties": {
        "street": {"type": "string"}, "city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
      "required": ["city"]},
    "score": {"type": "number"},
    "active": {"type": "boolean"}
  },
  "required": ["name", "age", "role"]
})";

// A small C-like language: 40 rules, keywords, nested expressions and statements, comments.
const char* kLargeGrammar = R"g(root ::= ws (decl ws)+
decl ::= func | global
global ::= type ws ident ws ("=" ws expr ws)? ";"
func ::= type ws ident ws "(" ws params? ws ")" ws block
params ::= param (ws "," ws param)*
param ::= type ws ident
type ::= ("const" ws)? base ws ("*" ws)*
base ::= "int" | "long" | "short" | "char" | "float" | "double" | "void" | "unsigned" ws base | "struct" ws ident
block ::= "{" ws (stmt ws)* "}"
stmt ::= block | if | while | for | return | "break" ws ";" | "continue" ws ";" | local | expr ws ";" | comment
local ::= type ws ident ws ("[" ws number ws "]" ws)? ("=" ws expr ws)? ";"
if ::= "if" ws "(" ws expr ws ")" ws stmt (ws "else" ws stmt)?
while ::= "while" ws "(" ws expr ws ")" ws stmt
for ::= "for" ws "(" ws (expr ws)? ";" ws (expr ws)? ";" ws (expr ws)? ")" ws stmt
return ::= "return" (ws expr)? ws ";"
expr ::= assign
assign ::= ternary (ws assignop ws assign)?
assignop ::= "=" | "+=" | "-=" | "*=" | "/=" | "%=" | "&=" | "|=" | "^=" | "<<=" | ">>="
ternary ::= logor (ws "?" ws expr ws ":" ws ternary)?
logor ::= logand (ws "||" ws logand)*
logand ::= bitor (ws "&&" ws bitor)*
bitor ::= bitxor (ws "|" ws bitxor)*
bitxor ::= bitand (ws "^" ws bitand)*
bitand ::= equality (ws "&" ws equality)*
equality ::= relation (ws ("==" | "!=") ws relation)*
relation ::= shift (ws ("<" | ">" | "<=" | ">=") ws shift)*
shift ::= additive (ws ("<<" | ">>") ws additive)*
additive ::= term (ws ("+" | "-") ws term)*
term ::= unary (ws ("*" | "/" | "%") ws unary)*
unary ::= ("-" | "!" | "~" | "*" | "&" | "++" | "--") unary | postfix
postfix ::= primary (call | index | member | "++" | "--")*
call ::= "(" ws (expr (ws "," ws expr)*)? ws ")"
index ::= "[" ws expr ws "]"
member ::= ("." | "->") ident
primary ::= ident | number | string | char | "(" ws expr ws ")" | "sizeof" ws "(" ws type ws ")"
ident ::= [a-zA-Z_] [a-zA-Z0-9_]{0,30}
number ::= [0-9]{1,10} ("." [0-9]{1,8})? [uUlLfF]?
string ::= "\"" ([^"\\\n] | "\\" [ntr0\\"'])* "\""
char ::= "'" ([^'\\\n] | "\\" [ntr0\\"']) "'"
comment ::= "//" [^\n]* "\n" | "/*" ([^*] | "*" [^/])* "*/"
ws ::= [ \t\n]{0,8}
)g";

struct Stats {
    std::vector<double> mask_ms, sample_ms, accept_ms;
    std::vector<double> cold_ms;  // the first request only (nothing cached yet)
    size_t n_tokens = 0, n_complete = 0, n_states = 0;
};

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(q * double(v.size() - 1) + 0.5))];
}

Stats run(const std::string& what, const llcuda::SamplingParams& base,
          std::shared_ptr<const llcuda::grammar::TokenVocabulary> vocab, int runs, int tokens) {
    Stats st;
    const uint32_t n = vocab->n_rows;
    std::vector<float> logits(n);
    for (int r = 0; r < runs; ++r) {
        llcuda::SamplingParams p = base;
        p.seed = uint64_t(r + 1);
        llcuda::Sampler sampler(p, n, vocab);
        std::mt19937_64 rng(uint64_t(r) * 7919 + 1);
        std::normal_distribution<float> normal(0.0f, 2.0f);
        for (int t = 0; t < tokens; ++t) {
            for (auto& x : logits) x = normal(rng);
            // mask alone (cold for a new state; the sample() below then finds it cached)
            const auto t0 = Clock::now();
            sampler.matcher()->allowed();
            const auto t1 = Clock::now();
            const int32_t tok = sampler.sample(logits);
            const auto t2 = Clock::now();
            st.mask_ms.push_back(ms(t1 - t0));
            if (r == 0) st.cold_ms.push_back(ms(t1 - t0));
            st.sample_ms.push_back(ms(t2 - t1));
            ++st.n_tokens;
            if (vocab->is_end(tok)) { ++st.n_complete; break; }
            const auto t3 = Clock::now();
            sampler.accept(tok);  // the automaton advances: serial with the GPU in a decode step
            st.accept_ms.push_back(ms(Clock::now() - t3));
        }
        st.n_states += sampler.matcher()->automaton_states();
    }
    std::printf("%-14s tokens %5zu (%zu of %d runs complete)  mask ms: median %.3f  p99 %.3f  max %.3f  mean %.3f"
                "   | rest of sample() ms: median %.3f | automaton states per run %zu\n",
                what.c_str(), st.n_tokens, st.n_complete, runs, percentile(st.mask_ms, 0.5), percentile(st.mask_ms, 0.99),
                percentile(st.mask_ms, 1.0),
                [&] { double s = 0; for (double x : st.mask_ms) s += x; return s / double(st.mask_ms.size()); }(),
                percentile(st.sample_ms, 0.5), st.n_states / size_t(runs));
    std::printf("%-14s accept() ms: median %.3f  p99 %.3f  mean %.3f\n", "", percentile(st.accept_ms, 0.5),
                percentile(st.accept_ms, 0.99),
                [&] { double s = 0; for (double x : st.accept_ms) s += x; return st.accept_ms.empty() ? 0.0 : s / double(st.accept_ms.size()); }());
    std::printf("%-14s first request alone: median %.3f  p99 %.3f\n", "", percentile(st.cold_ms, 0.5),
                percentile(st.cold_ms, 0.99));
    return st;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string path = argc > 1 ? argv[1] : LLCUDA_BENCH_TOKENIZER;
    const int runs = argc > 2 ? std::atoi(argv[2]) : 20;
    const int tokens = argc > 3 ? std::atoi(argv[3]) : 160;
    const bool gguf = path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0;  // a model's own tokenizer
    const auto tokenizer = gguf ? llcuda::Tokenizer::from_gguf_file(path) : llcuda::Tokenizer::from_hf_json_file(path);
    const auto t0 = Clock::now();
    const auto vocab = llcuda::grammar::build_token_vocabulary(tokenizer, uint32_t(tokenizer.n_vocab()), {tokenizer.eos_id()});
    std::printf("vocabulary %u tokens, trie %zu nodes, built in %.1f ms\n", vocab->n_rows, vocab->node_byte.size(),
                ms(Clock::now() - t0));

    llcuda::SamplingParams p;  // llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05
    p.max_tokens = uint32_t(tokens);
    p.json_schema = kSchema;
    run("json-schema", p, vocab, runs, tokens);
    p.json_schema.clear();
    p.grammar = kLargeGrammar;
    run("c-grammar", p, vocab, runs, tokens);
    p.grammar = llcuda::json_object_grammar();
    run("json-object", p, vocab, runs, tokens);

    // Reference: one unconstrained sample() on the same row size.
    llcuda::SamplingParams u;
    u.seed = 1;
    llcuda::Sampler plain(u, vocab->n_rows);
    std::vector<float> logits(vocab->n_rows);
    std::mt19937_64 rng(1);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    std::vector<double> t;
    for (int i = 0; i < 200; ++i) {
        for (auto& x : logits) x = normal(rng);
        const auto a = Clock::now();
        plain.accept(plain.sample(logits));
        t.push_back(ms(Clock::now() - a));
    }
    std::printf("unconstrained sample() on the whole row: median %.3f ms\n", percentile(t, 0.5));
    return 0;
}
