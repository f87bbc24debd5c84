"""What the Python package tests share: arguments, the tally, the test models and the C++ oracles.

Every test script is run as `<name>_test.py REPO_ROOT LLCUDA ENGINE_REFERENCE INFER_TIMING` with the package on
PYTHONPATH (tests/python/CMakeLists.txt). ENGINE_REFERENCE is tests/cli/engine_reference.cpp: the
C++ engine through its public API, the oracle for what the binding must return; INFER_TIMING
(infer_timing.cpp) times the C++ API for the binding-overhead check.
"""
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from checks import Checks  # noqa: E402
from cli_support import GEMMA3, SMOLLM2, describe, require_models  # noqa: E402,F401

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
LLCUDA = sys.argv[2] if len(sys.argv) > 2 else None
REFERENCE = sys.argv[3] if len(sys.argv) > 3 else None
INFER_TIMING = sys.argv[4] if len(sys.argv) > 4 else None


def reference(*args):
    """engine_reference's JSON answer (None when it failed, after recording the failure)."""
    out = subprocess.run([REFERENCE] + [str(a) for a in args], capture_output=True, timeout=900)
    if out.returncode != 0:
        print("engine_reference failed:", describe(out))
        return None
    return json.loads(out.stdout)


def golden(name):
    """tests/golden/engine/<name>.json (llama.cpp's answers, tests/oracles/engine_golden.py)."""
    return json.loads((ROOT / "tests" / "golden" / "engine" / f"{name}.json").read_text())


def cpu_engine(llcuda, model, **options):
    """An engine with `model` loaded the way engine_reference loads it (default options)."""
    engine = llcuda.InferenceEngine()
    engine.load_model(model, **options)
    return engine
