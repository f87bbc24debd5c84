"""`llcuda serve`'s KV pool (docs/server.md): the start-up line reports the pool /metrics then
shows (blocks, tokens, contexts, GiB), as --max-seqs or --kv-blocks size it on the CPU; --kv-memory
is refused with --backend cpu, together with --kv-blocks, and outside [0, 1]. With `cuda` (ctest's
server_kv_pool_cuda, label gpu) the pool is sized from free GPU memory instead: the default 0.9 and
--kv-memory 0.5 give pools in the ratio 0.9 : 0.5, far beyond --max-seqs contexts, and the server
answers; --f16-weights (refused on the CPU) leaves a smaller pool.

usage: server_kv_pool_test.py LLCUDA REPO_ROOT [cuda]"""
import re
import subprocess
import sys

from server_support import Server
from checks import Checks
from cli_support import SMOLLM2, require_models

POOL_LINE = re.compile(r"KV pool of (\d+) blocks x (\d+) = (\d+) tokens \((\d+) contexts of (\d+)\), "
                       r"([\d.]+) GiB \((.*?)\)")
# SmolLM2-135M: 30 layers, 3 KV heads of 64; the CPU stores K and V as float32.
CPU_BYTES_PER_TOKEN = 30 * 2 * 3 * 64 * 4


def pool_of(check, llcuda, *args):
    """Starts the server, returns (start-up pool line fields, /metrics block total) and stops it."""
    server = Server(llcuda, SMOLLM2, *args)
    try:
        m = POOL_LINE.search("".join(server.startup_log))
        check(m is not None, f"the start-up log names the KV pool: {server.startup_log}")
        metrics = server.metrics()
        total = sum(metrics[f'llcuda_kv_blocks{{state="{s}"}}'] for s in ("used", "cached", "free"))
        status, _, data = server.request("POST", "/v1/completions", {"prompt": "Hi", "max_tokens": 4, "temperature": 0})
        check(status == 200, f"the server answers: {status} {data[:200]}")
    finally:
        check(server.stop() == 0, "SIGTERM stops the server cleanly")
    return (m.groups() if m else None), total


def refused(check, llcuda, args, fragment):
    r = subprocess.run([str(llcuda), "serve", "-m", str(SMOLLM2), "--port", "0", *args], capture_output=True, text=True,
                       timeout=120)
    check(r.returncode != 0 and fragment in r.stderr, f"serve {' '.join(args)} is refused naming '{fragment}': "
                                                      f"exit {r.returncode}, {r.stderr[-300:]}")


def main():
    llcuda = sys.argv[1]
    check = Checks()
    require_models(check, SMOLLM2)
    if sys.argv[3:] == ["cuda"]:
        check_cuda(check, llcuda)
    else:
        check_cpu(check, llcuda)
    check.finish()


def check_cpu(check, llcuda):
    # The CPU: two contexts of 256 = 32 blocks of 16; --kv-blocks wins over the --kv-memory default.
    line, total = pool_of(check, llcuda, "-c", 256, "--max-seqs", 2, "-t", 2, "--backend", "cpu")
    if line:
        blocks, block, tokens, contexts, ctx, gib, why = line
        check((blocks, block, tokens, contexts, ctx) == ("32", "16", "512", "2", "256") and total == 32,
              f"--max-seqs 2 -c 256: 32 blocks: {line}, /metrics {total}")
        check(abs(float(gib) - 512 * CPU_BYTES_PER_TOKEN / 2**30) < 0.006, f"the pool's GiB: {line}")
        check(why == "--max-seqs contexts", f"the reason: {line}")
    line, total = pool_of(check, llcuda, "-c", 256, "--kv-blocks", 40, "-t", 2, "--backend", "cpu")
    check(line is not None and line[0] == "40" and line[6] == "--kv-blocks" and total == 40,
          f"--kv-blocks 40: {line}, /metrics {total}")

    refused(check, llcuda, ["--backend", "cpu", "--kv-memory", "0.5"], "--kv-memory")
    refused(check, llcuda, ["--kv-blocks", "40", "--kv-memory", "0.5"], "excludes")
    refused(check, llcuda, ["--kv-memory", "1.5"], "--kv-memory")
    refused(check, llcuda, ["--backend", "cpu", "--f16-weights"], "--f16-weights")


def check_cuda(check, llcuda):
    """The GPU's pool, sized from the memory free after loading (needs a usable GPU: else it fails)."""
    default, total_default = pool_of(check, llcuda, "-c", 1024, "--max-seqs", 2, "--backend", "cuda")
    half, total_half = pool_of(check, llcuda, "-c", 1024, "--max-seqs", 2, "--backend", "cuda", "--kv-memory", 0.5)
    print("CUDA pools (blocks, block size, tokens, contexts, context, GiB, reason):", default, half)
    if default and half:
        check(default[6].startswith("--kv-memory 0.90") and half[6].startswith("--kv-memory 0.50"),
              f"the reasons: {default[6]} / {half[6]}")
        check(int(half[0]) > 2 * 1024 // 16 and total_half == int(half[0]) and total_default == int(default[0]),
              f"far beyond two contexts, as /metrics says: {half}, {total_half}")
        ratio = int(default[0]) / int(half[0])
        check(1.7 < ratio < 1.9, f"0.9 and 0.5 of the same free memory: ratio {ratio:.3f}")
    # --f16-weights: the copies (2 bytes a weight of every quantized matrix, SmolLM2's tied head
    # included: ~0.2 GB) come out of the memory the pool is sized from, and the server answers.
    copies, total_copies = pool_of(check, llcuda, "-c", 1024, "--max-seqs", 2, "--backend", "cuda", "--f16-weights")
    print("CUDA pool with --f16-weights:", copies)
    if default and copies:
        check(int(copies[0]) < int(default[0]) and total_copies == int(copies[0]),
              f"a smaller pool than without the copies: {copies[0]} vs {default[0]} blocks")


if __name__ == "__main__":
    main()
