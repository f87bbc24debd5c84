"""Where Python tests and oracle generators find the repository's test data (tests/data: tokenizer
files, the Austen corpus), unpacked and checked against tests/data/SHA256SUMS.

Under ctest, $LLCUDA_TEST_DATA names <build>/test-data, which the build unpacked. Run by hand (an
oracle generator, a test script), scripts/prepare-test-data.sh unpacks it into build/test-data,
or only re-checks the hashes when it is already there; a mismatch stops the script."""
import functools
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=None)
def test_data_dir():
    env = os.environ.get("LLCUDA_TEST_DATA")
    if env:
        return Path(env)
    dest = ROOT / "build" / "test-data"
    subprocess.run(["bash", str(ROOT / "scripts" / "prepare-test-data.sh"), str(dest)], check=True)
    return dest


def tokenizer_dir(name):
    """tokenizers/<name>: llama3-instruct, qwen3 or mistral-7b (tokenizer.json, tokenizer_config.json)."""
    return test_data_dir() / "tokenizers" / name


def austen_path():
    return test_data_dir() / "corpus" / "austen.txt"
