#!/usr/bin/env python3
"""One-core encode throughput of llcuda's tokenizer vs HF `tokenizers` on austen.txt.

Runs build*/tests/tokenizer/bench_tokenizer (C++) and HF `tokenizers` with RAYON_NUM_THREADS=1
(encode_batch, so Python call overhead is amortized the same way) on the same texts: each line of
the corpus, and blocks of 64 lines joined with "\\n". Both are pinned to one CPU with taskset when
available. Times are process CPU time (shared machines make wall time noisy). Prints a markdown
table of MB/s (best of 3) and checks both produced the same number of tokens. The GGUF models use the same reconstructed HF tokenizers as tokenizer_golden.py.

Usage: tokenizer_bench.py [--bench PATH] [--cpu N]
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from test_data import test_data_dir  # noqa: E402

DATA = str(test_data_dir())   # the repository's test data (tests/data), unpacked
MODELS = os.path.expanduser("~/.cache/llcuda/models")

SOURCES = [
    ("llama3", os.path.join(DATA, "tokenizers", "llama3-instruct", "tokenizer.json")),
    ("qwen3", os.path.join(DATA, "tokenizers", "qwen3", "tokenizer.json")),
    ("mistral", os.path.join(DATA, "tokenizers", "mistral-7b", "tokenizer.json")),
    ("smollm2", os.path.join(MODELS, "SmolLM2-135M-Instruct.Q4_1.gguf")),
    ("gemma3", os.path.join(MODELS, "gemma-3-270m-q4_k_m.gguf")),
]

HF_CHILD = r"""
import sys, time, json
sys.path.insert(0, sys.argv[3])
from tokenizers import Tokenizer
from tokenizer_golden import tokenizer_from_gguf
path, corpus = sys.argv[1], sys.argv[2]
tok = tokenizer_from_gguf(path) if path.endswith(".gguf") else Tokenizer.from_file(path)
lines = open(corpus, "rb").read().decode("utf-8").split("\n")
blocks = ["\n".join(lines[i:i + 64]) for i in range(0, len(lines), 64)]
for label, texts in (("lines", lines), ("blocks", blocks)):
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    best = 1e30
    for _ in range(3):
        t0 = time.process_time()  # CPU time of all threads: rayon's one worker included
        encs = tok.encode_batch(texts, add_special_tokens=False)
        best = min(best, time.process_time() - t0)
    print(label, n_bytes / best / 1e6, sum(len(e.ids) for e in encs))
"""


def pinned(cmd, cpu):
    return (["taskset", "-c", str(cpu)] if shutil.which("taskset") else []) + cmd


def parse(out):
    res = {}
    for line in out.strip().splitlines():
        label, mbs, n = line.split()
        res[label] = (float(mbs), int(n))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.path.join(ROOT, "build-tok", "tests", "tokenizer", "bench_tokenizer"))
    ap.add_argument("--cpu", type=int, default=1)
    args = ap.parse_args()
    corpus = os.path.join(DATA, "corpus", "austen.txt")
    env = dict(os.environ, RAYON_NUM_THREADS="1", TOKENIZERS_PARALLELISM="true")
    rows = []
    for name, path in SOURCES:
        if not os.path.exists(path):
            print(f"skip {name}: {path} missing", file=sys.stderr)
            continue
        ours = parse(subprocess.run(pinned([args.bench, path, corpus], args.cpu), check=True, capture_output=True, text=True).stdout)
        hf = parse(subprocess.run(pinned([sys.executable, "-c", HF_CHILD, path, corpus, HERE], args.cpu), env=env,
                                  check=True, capture_output=True, text=True).stdout)
        for label in ("lines", "blocks"):
            same = "yes" if ours[label][1] == hf[label][1] else f"NO ({ours[label][1]} vs {hf[label][1]})"
            rows.append((name, label, ours[label][0], hf[label][0], ours[label][0] / hf[label][0], same))
    print("| tokenizer | texts | llcuda MB/s | HF tokenizers MB/s | ratio | same token count |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.2f} | {r[3]:.2f} | {r[4]:.2f}x | {r[5]} |")


if __name__ == "__main__":
    main()
