"""bench/serve_bench.py against `llcuda serve` on the tiny bench model (CPU backend).

The benchmark's table is only what it claims if every request sends a new prompt: a prompt seen
before is served from the prefix cache and its time to first token measures a cache hit, not a
prefill. After a run with a warm-up and two levels, the server's own counter of prompt tokens
served from the prefix cache must be 0 (a run whose warm-up repeated the first level's prompt
left 48 cached tokens here). Also: the script exits 0 and prints one row per level, with every
request answered, positive rates and the requested clients.

Usage: serve_bench_test.py PATH/TO/llcuda PROJECT_ROOT
"""
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from server_support import Server, wait_for_idle  # noqa: E402
from checks import Checks  # noqa: E402


def main():
    cli, root = sys.argv[1], Path(sys.argv[2])
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "tiny.gguf"
        subprocess.run([cli, "make-bench-model", "--shape", "tiny", "--type", "Q4_K_M", "-o", str(model)],
                       check=True, capture_output=True)
        server = Server(cli, model, "--backend", "cpu", "-t", 2, "-c", 256, "--max-seqs", 4)
        try:
            before = server.metrics()
            out = subprocess.run([sys.executable, str(root / "bench" / "serve_bench.py"),
                                  "--url", f"http://127.0.0.1:{server.port}", "--clients", "1,2",
                                  "--prompt-tokens", "64", "--output-tokens", "4", "--requests-per-client", "2",
                                  "--warmup", "1"],
                                 capture_output=True, text=True, timeout=600)
            check(out.returncode == 0, f"serve_bench exit {out.returncode}: {out.stderr[-400:]}")
            rows = [line.split() for line in out.stdout.splitlines() if line.split() and line.split()[0].isdigit()]
            check([r[0] for r in rows] == ["1", "2"], f"one row per level: {out.stdout}")
            for r in rows:
                check(len(r) == 9 and r[-1] == "0", f"no errors in row {r}")
                check(float(r[1]) > 0 and float(r[2]) > 0, f"positive rates in row {r}")
            after = wait_for_idle(server)
            hits = after["llcuda_prefix_cache_hits_total"] - before["llcuda_prefix_cache_hits_total"]
            queried = after["llcuda_prefix_cache_queries_total"] - before["llcuda_prefix_cache_queries_total"]
            # 1 warm-up + 1 x 2 + 2 x 2 requests of 64 prompt tokens each were looked up
            check(queried >= 7 * 64, f"prompt tokens looked up: {queried}")
            check(hits == 0, f"prompt tokens served from the prefix cache during the benchmark: {hits}")
        finally:
            code = server.stop()
            check(code == 0, f"server exit {code}")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
