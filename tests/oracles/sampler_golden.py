#!/usr/bin/env python3
"""Golden files for the sampler, computed by llama.cpp's sampler chain (the `llama-cpp-python` package).

The logits are real: SmolLM2-135M (Q4_1, run by llama.cpp) after a few prompts, from peaked ("1, 2,
3, 4,") to flat. Each row is cut to a vocabulary of 2048 entries (its 1536 highest logits and 512
others drawn from the rest, renumbered 0..2047 in their original id order) so the golden files stay
small; one row keeps the full 49152-entry vocabulary for chains that start with top-k. Every row
gets a token history for the penalties: tokens drawn from its own distribution (they hit the likely
candidates) and uniform ones (mostly negative logits, the multiply branch of the repetition penalty).

llama.cpp's samplers are then applied through the C API (llama_sampler_init_penalties / _top_k /
_typical / _top_p / _min_p / _temp_ext, llama_sampler_apply on a llama_token_data_array), with
min_keep = 0 as llama.cpp's common defaults:
- stage cases: one stage alone on a row (candidates in id order, unsorted);
- chain cases: penalties → top-k → typical → top-p → min-p → temperature, the order of llama.cpp's
  default chain (common/sampling.cpp), recorded after every stage; `final` is llama_sampler_dist's
  distribution. The script checks that applying the stages one by one equals a llama_sampler_chain.
After each stage: the surviving ids and their logits; `p` where the stage computes a softmax
(typical, top_p: llama.cpp does not renormalize after the cut); `p_draw`, the distribution that
llama_sampler_dist would draw from at that point. A stage that changed nothing is {"unchanged": true};
penalties record only the logits they changed. Tokens that greedy temperature (t <= 0) sets to -inf
are left out (probability 0).

Our penalty_last_n = -1 means the whole history; llama.cpp reads -1 as 0 (disabled), so the oracle
gets the history's length. The script refuses cases whose cut lies within float rounding of the
threshold (a tie at top-k, a cumulative sum within 1e-5 of top-p / typical, a logit within 1e-5 of
min-p's bound), so that any correct float implementation reproduces the goldens exactly.

Writes tests/golden/sampler/rows.f32 (float32 little-endian rows, back to back) and cases.json.
Needs: pip install -r tests/oracles/requirements.txt (llama-cpp-python builds llama.cpp from source:
CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF").
Regenerate: python3 tests/oracles/sampler_golden.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]
(default: ~/.cache/llcuda/models/, where scripts/fetch-models.sh puts it).
"""
import ctypes
import json
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import llama_cpp as L

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "golden" / "sampler"
MODEL = Path.home() / ".cache" / "llcuda" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"

N_SMALL, N_HEAD = 2048, 1536  # truncated vocabulary: its highest logits, then others from the tail
MARGIN = 1e-5                 # how far a cut must lie from its threshold

PROMPTS = {
    "count": "1, 2, 3, 4,",
    "france": "The capital of France is",
    "story": "Once upon a time, in a small village,",
    "chat": "<|im_start|>user\nWrite a short poem about the sea.<|im_end|>\n<|im_start|>assistant\n",
    "open": "I think that",
}
FULL_ROW = "story"  # also kept with the whole vocabulary

STAGES = ["penalties", "top_k", "typical", "top_p", "min_p", "temperature"]
NEUTRAL = dict(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, typical_p=1.0, repetition_penalty=1.0,
               presence_penalty=0.0, frequency_penalty=0.0, penalty_last_n=64)


# ---------------------------------------------------------------- logits rows
def model_rows(model_path):
    llm = L.Llama(model_path=str(model_path), n_ctx=256, logits_all=True, verbose=False, n_threads=2, seed=1)
    rows = {}
    for name, prompt in PROMPTS.items():
        llm.reset()
        tokens = llm.tokenize(prompt.encode(), add_bos=True, special=True)
        llm.eval(tokens)
        rows[name] = np.array(llm.scores[len(tokens) - 1], dtype=np.float32)
    return rows


def truncate(row, rng):
    order = np.argsort(-row, kind="stable")
    keep = np.concatenate([order[:N_HEAD], rng.choice(order[N_HEAD:], N_SMALL - N_HEAD, replace=False)])
    return row[np.sort(keep)].copy()


def history_for(row, rng, n_likely=48, n_uniform=32):
    p = np.exp(row.astype(np.float64) - row.max())
    p /= p.sum()
    likely = rng.choice(len(row), n_likely, p=p)
    uniform = rng.integers(0, len(row), n_uniform)
    h = np.concatenate([likely, uniform])
    rng.shuffle(h)
    return [int(t) for t in h]


# ---------------------------------------------------------------- llama.cpp's samplers
class Candidates:
    """A llama_token_data_array that owns its buffer."""

    def __init__(self, ids, logits, p=None, sorted_=False):
        n = len(ids)
        self.buf = (L.llama_token_data * n)()
        view = np.ctypeslib.as_array(self.buf)
        view["id"] = ids
        view["logit"] = logits
        view["p"] = 0.0 if p is None else p
        self.arr = L.llama_token_data_array(data=ctypes.cast(self.buf, L.llama_token_data_p), size=n, selected=-1,
                                            sorted=sorted_)

    def view(self):
        """The current candidates (samplers may move the data pointer and shrink the size)."""
        n = self.arr.size
        ptr = ctypes.cast(self.arr.data, ctypes.POINTER(L.llama_token_data * n))
        return np.ctypeslib.as_array(ptr.contents).copy() if n else np.zeros(0, dtype=np.ctypeslib.as_array(self.buf).dtype)

    def copy(self):
        v = self.view()
        return Candidates(v["id"], v["logit"], v["p"], bool(self.arr.sorted))

    def apply(self, smpl):
        L.llama_sampler_apply(smpl, ctypes.byref(self.arr))


def make_sampler(stage, params, n_vocab):
    if stage == "penalties":
        last_n = params["penalty_last_n"]
        return L.llama_sampler_init_penalties(n_vocab, last_n, params["repetition_penalty"],
                                              params["frequency_penalty"], params["presence_penalty"])
    if stage == "top_k":
        return L.llama_sampler_init_top_k(params["top_k"])
    if stage == "typical":
        return L.llama_sampler_init_typical(params["typical_p"], 0)
    if stage == "top_p":
        return L.llama_sampler_init_top_p(params["top_p"], 0)
    if stage == "min_p":
        return L.llama_sampler_init_min_p(params["min_p"], 0)
    if stage == "temperature":
        return L.llama_sampler_init_temp_ext(params["temperature"], 0.0, 1.0)
    raise ValueError(stage)


def oracle_params(params, history):
    """Our parameters as llama.cpp reads them: penalty_last_n = -1 (all) becomes the history's length."""
    q = dict(params)
    if q["penalty_last_n"] < 0:
        q["penalty_last_n"] = len(history)
    return q


def penalties_sampler(params, history, n_vocab):
    s = make_sampler("penalties", params, n_vocab)
    for t in history:
        L.llama_sampler_accept(s, t)
    return s


def dist_probs(cands):
    c = cands.copy()
    d = L.llama_sampler_init_dist(1234)
    c.apply(d)
    L.llama_sampler_free(d)
    v = c.view()
    return v[np.isfinite(v["logit"])]


def f32(x):
    """A float32 as the shortest decimal that reads back to the same float32."""
    return float(str(np.float32(x))) if np.isfinite(x) else None


def record(stage, before, after, cands):
    """One stage's result: what the C++ test compares."""
    if stage == "penalties":
        changed = np.nonzero(before["logit"] != after["logit"])[0]
        assert np.array_equal(before["id"], after["id"])
        return {"changed_ids": [int(i) for i in after["id"][changed]],
                "changed_logits": [f32(x) for x in after["logit"][changed]]}
    live = after[np.isfinite(after["logit"])]
    if len(live) == len(before) and np.array_equal(np.sort(live["id"]), np.sort(before["id"])) and \
            np.array_equal(live["logit"][np.argsort(live["id"])], before["logit"][np.argsort(before["id"])]):
        return {"unchanged": True}
    order = np.argsort(live["id"])
    live = live[order]
    out = {"ids": [int(i) for i in live["id"]], "logits": [f32(x) for x in live["logit"]]}
    if stage in ("typical", "top_p"):
        out["p"] = [f32(x) for x in live["p"]]
    d = dist_probs(cands)
    d = d[np.argsort(d["id"])]
    assert np.array_equal(d["id"], live["id"])
    out["p_draw"] = [f32(x) for x in d["p"]]
    return out


# ---------------------------------------------------------------- independent float64 check of each cut
def softmax64(logits):
    x = logits.astype(np.float64)
    e = np.exp(x - x.max())
    return e / e.sum()


def check_cut(stage, params, before, after, where):
    """Recomputes the stage in float64 and refuses a cut that rounding could move."""
    ids, logits = before["id"], before["logit"]
    kept = set(int(i) for i in after["id"][np.isfinite(after["logit"])])
    if stage == "top_k":
        k = params["top_k"]
        if 0 < k < len(logits):
            s = np.sort(logits)[::-1]
            assert s[k - 1] != s[k], f"{where}: tie at the top-k boundary"
            expect = set(int(i) for i in ids[np.argsort(-logits, kind="stable")[:k]])
            assert expect == kept, where
    elif stage == "top_p" and params["top_p"] < 1:
        p = softmax64(logits)
        order = np.argsort(-logits, kind="stable")
        cum = np.cumsum(p[order])
        n = int(np.searchsorted(cum, params["top_p"])) + 1
        n = min(n, len(cum))
        assert abs(cum[n - 1] - params["top_p"]) > MARGIN and (n == 1 or abs(cum[n - 2] - params["top_p"]) > MARGIN), \
            f"{where}: top-p cut within rounding"
        assert set(int(i) for i in ids[order[:n]]) == kept, where
    elif stage == "typical" and params["typical_p"] < 1:
        p = softmax64(logits)
        entropy = -(p * np.log(p)).sum()
        gap = np.abs(-np.log(p) - entropy)
        order = np.argsort(gap, kind="stable")
        cum = np.cumsum(p[order])
        n = min(int(np.searchsorted(cum, params["typical_p"], side="right")) + 1, len(cum))
        assert abs(cum[n - 1] - params["typical_p"]) > MARGIN, f"{where}: typical cut within rounding"
        if n < len(order):
            assert gap[order[n]] - gap[order[n - 1]] > MARGIN, f"{where}: typical order within rounding"
        assert set(int(i) for i in ids[order[:n]]) == kept, where
    elif stage == "min_p" and params["min_p"] > 0:
        bound = float(logits.max()) + np.log(params["min_p"])
        assert np.all(np.abs(logits.astype(np.float64) - bound) > MARGIN), f"{where}: min-p bound within rounding"
        assert set(int(i) for i in ids[logits >= bound]) == kept, where


# ---------------------------------------------------------------- cases
STAGE_CASES = {
    "penalties": [dict(repetition_penalty=1.3), dict(frequency_penalty=0.5, presence_penalty=0.3),
                  dict(repetition_penalty=1.1, frequency_penalty=0.2, presence_penalty=0.4, penalty_last_n=8),
                  dict(repetition_penalty=0.8, penalty_last_n=-1), dict(repetition_penalty=1.5, penalty_last_n=0)],
    "top_k": [dict(top_k=1), dict(top_k=5), dict(top_k=40), dict(top_k=300), dict(top_k=0), dict(top_k=5000)],
    "typical": [dict(typical_p=0.2), dict(typical_p=0.5), dict(typical_p=0.9), dict(typical_p=1.0)],
    "top_p": [dict(top_p=0.1), dict(top_p=0.5), dict(top_p=0.9), dict(top_p=0.95), dict(top_p=1.0)],
    "min_p": [dict(min_p=0.01), dict(min_p=0.05), dict(min_p=0.2), dict(min_p=0.0)],
    "temperature": [dict(temperature=0.3), dict(temperature=1.7), dict(temperature=0.0)],
}
# Stage cases run on every truncated row, except these that keep many candidates and are
# informative enough on two rows.
WIDE = {("typical", 0.9), ("top_p", 0.95), ("temperature", 0.3), ("temperature", 1.7)}
WIDE_ROWS = ("count", "france")

CHAINS = [
    ("defaults", dict(temperature=0.8, top_k=40, top_p=0.95, min_p=0.05), ["count", "story", "open", "story_full"]),
    ("repeat", dict(temperature=0.8, top_k=40, top_p=0.95, min_p=0.05, repetition_penalty=1.1), ["chat", "story_full"]),
    ("nucleus", dict(temperature=1.0, top_p=0.9), ["france", "chat"]),
    ("mixed", dict(temperature=0.7, top_k=100, typical_p=0.8, top_p=0.95, min_p=0.02, frequency_penalty=0.3,
                   presence_penalty=0.5, penalty_last_n=32), ["story", "open", "story_full"]),
    ("typical_hot", dict(temperature=1.3, typical_p=0.5, min_p=0.1, repetition_penalty=1.3, penalty_last_n=-1),
     ["chat", "france"]),
    ("narrow_hot", dict(temperature=2.0, top_k=5, min_p=0.02), ["open", "chat"]),
    ("greedy", dict(temperature=0.0, top_k=40, top_p=0.9, repetition_penalty=1.5), ["count", "open"]),
    ("greedy_typical", dict(temperature=0.0, typical_p=0.3), ["france", "story", "open"]),
]


def full_params(p):
    q = dict(NEUTRAL)
    q.update(p)
    return q


def run_stage_case(stage, params, row, history):
    q = oracle_params(params, history)
    ids = np.arange(len(row), dtype=np.int32)
    cands = Candidates(ids, row)
    before = cands.view()
    s = penalties_sampler(q, history, len(row)) if stage == "penalties" else make_sampler(stage, q, len(row))
    cands.apply(s)
    L.llama_sampler_free(s)
    after = cands.view()
    check_cut(stage, q, before, after, f"{stage} {params}")
    return record(stage, before, after, cands)


def run_chain_case(name, params, row, history):
    q = oracle_params(params, history)
    cands = Candidates(np.arange(len(row), dtype=np.int32), row)
    stages = []
    for stage in STAGES:
        before = cands.view()
        s = penalties_sampler(q, history, len(row)) if stage == "penalties" else make_sampler(stage, q, len(row))
        cands.apply(s)
        L.llama_sampler_free(s)
        after = cands.view()
        check_cut(stage, q, before, after, f"chain {name} {stage}")
        stages.append(dict(stage=stage, **record(stage, before, after, cands)))
    final = dist_probs(cands)
    final = final[np.argsort(final["id"])]

    # The same samplers in a llama_sampler_chain (what llama.cpp runs) end on the same distribution.
    chain = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
    L.llama_sampler_chain_add(chain, penalties_sampler(q, history, len(row)))
    for stage in STAGES[1:]:
        L.llama_sampler_chain_add(chain, make_sampler(stage, q, len(row)))
    L.llama_sampler_chain_add(chain, L.llama_sampler_init_dist(7))
    whole = Candidates(np.arange(len(row), dtype=np.int32), row)
    whole.apply(chain)
    L.llama_sampler_free(chain)
    w = whole.view()
    w = w[np.isfinite(w["logit"])]
    w = w[np.argsort(w["id"])]
    assert np.array_equal(w["id"], final["id"]) and np.allclose(w["p"], final["p"], rtol=1e-6), name
    return stages, {"ids": [int(i) for i in final["id"]], "p": [f32(x) for x in final["p"]]}


def main():
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else MODEL
    if not model.exists():
        sys.exit(f"missing model {model} (run scripts/fetch-models.sh)")
    rng = np.random.default_rng(15)
    raw = model_rows(model)
    rows = {name: truncate(r, rng) for name, r in raw.items()}
    rows[FULL_ROW + "_full"] = raw[FULL_ROW]
    histories = {name: history_for(r, rng) for name, r in rows.items()}

    OUT.mkdir(parents=True, exist_ok=True)
    meta_rows, offset = [], 0
    with open(OUT / "rows.f32", "wb") as f:
        for name, r in rows.items():
            f.write(r.astype("<f4").tobytes())
            prompt_of = name.removesuffix("_full")
            meta_rows.append({"name": name, "prompt": PROMPTS[prompt_of], "n_vocab": len(r), "offset": offset,
                              "history": histories[name]})
            offset += len(r)

    stage_cases = []
    small = [n for n in rows if not n.endswith("_full")]
    for stage, settings in STAGE_CASES.items():
        for setting in settings:
            value = next(iter(setting.values()))
            for name in (WIDE_ROWS if (stage, value) in WIDE else small):
                params = full_params(setting)
                result = run_stage_case(stage, params, rows[name], histories[name])
                stage_cases.append({"row": name, "stage": stage, "params": params, "result": result})

    chain_cases = []
    for label, setting, names in CHAINS:
        for name in names:
            params = full_params(setting)
            stages, final = run_chain_case(label, params, rows[name], histories[name])
            chain_cases.append({"name": label, "row": name, "params": params, "stages": stages, "final": final})

    doc = {
        "generator": "tests/oracles/sampler_golden.py",
        "oracle": f"llama-cpp-python {version('llama-cpp-python')} (llama.cpp sampler chain, min_keep = 0)",
        "model": model.name,
        "rows_file": "rows.f32",
        "rows": meta_rows,
        "stage_cases": stage_cases,
        "chain_cases": chain_cases,
    }
    with open(OUT / "cases.json", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    sizes = {p.name: p.stat().st_size for p in OUT.iterdir()}
    print(f"{len(stage_cases)} stage cases, {len(chain_cases)} chain cases; sizes {sizes}")


if __name__ == "__main__":
    main()
