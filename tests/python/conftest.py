"""What the pytest files of the Python package share (tests/python/*_test.py run under pytest).

ctest runs each file as `python -m pytest FILE` (llcuda_add_pytest, tests/python/CMakeLists.txt) with
the package on PYTHONPATH and the programs the tests compare with in the environment:
  LLCUDA_CLI               the llcuda program
  LLCUDA_ENGINE_REFERENCE  tests/cli/engine_reference.cpp: the C++ engine through its public API,
                           the oracle for what the binding must return
  LLCUDA_INFER_TIMING      infer_timing.cpp: times the C++ API for the binding-overhead check
The same can be given as --llcuda-cli, --engine-reference, --infer-timing.

A missing test model is never a pass: a failure under LLCUDA_REQUIRE_MODELS=1 (CI, scripts/test.sh),
else a pytest skip, and a session with such a skip and no failure exits 77, which ctest counts as a
skip (SKIP_RETURN_CODE). pytest's own "no tests collected" (exit 5) stays a failure.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT / "tests"))  # appended: tests/gguf etc. must not shadow packages
sys.path.append(str(ROOT / "tests" / "cli"))
from checks import SKIP_CODE, models_required  # noqa: E402
from cli_support import GEMMA3, SMOLLM2, describe  # noqa: E402

MISSING_MODEL = "missing model"  # starts every skip reason for a missing model


def pytest_addoption(parser):
    group = parser.getgroup("llcuda")
    group.addoption("--llcuda-cli", default=os.environ.get("LLCUDA_CLI"), help="the llcuda program")
    group.addoption("--engine-reference", default=os.environ.get("LLCUDA_ENGINE_REFERENCE"),
                    help="tests/cli/engine_reference (the C++ engine's answers)")
    group.addoption("--infer-timing", default=os.environ.get("LLCUDA_INFER_TIMING"),
                    help="tests/python/infer_timing (the C++ API's timing)")


def _program(config, option):
    path = config.getoption(option)
    if not path or not Path(path).is_file():
        pytest.fail(f"{option} / its environment variable names no program ({path!r}); ctest sets it")
    return path


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def llcuda_program(pytestconfig):
    return _program(pytestconfig, "--llcuda-cli")


@pytest.fixture(scope="session")
def infer_timing(pytestconfig):
    return _program(pytestconfig, "--infer-timing")


@pytest.fixture(scope="session")
def reference(pytestconfig):
    """reference(*args): engine_reference's JSON answer; a failed run fails the test."""
    program = _program(pytestconfig, "--engine-reference")

    def run(*args):
        out = subprocess.run([program] + [str(a) for a in args], capture_output=True, timeout=900)
        assert out.returncode == 0, f"engine_reference {args[:1]} failed: {describe(out)}"
        return json.loads(out.stdout)
    return run


def golden(name):
    """tests/golden/engine/<name>.json (llama.cpp's answers, tests/oracles/engine_golden.py)."""
    return json.loads((ROOT / "tests" / "golden" / "engine" / f"{name}.json").read_text())


def require_model(path):
    """`path` when the model is there; else a failure under LLCUDA_REQUIRE_MODELS=1, or a skip."""
    if Path(path).exists():
        return Path(path)
    if models_required():
        pytest.fail(f"missing model {path} (LLCUDA_REQUIRE_MODELS=1; run scripts/fetch-models.sh)")
    pytest.skip(f"{MISSING_MODEL} {path} (run scripts/fetch-models.sh)")


@pytest.fixture(scope="session")
def smollm2():
    return require_model(SMOLLM2)


@pytest.fixture(scope="session")
def gemma3():
    return require_model(GEMMA3)


def pytest_sessionfinish(session, exitstatus):
    """Only skips for missing models and no failure: ctest's skip code, not a pass. A run that
    collected nothing keeps pytest's exit 5 (a failure for ctest)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if exitstatus != 0 or reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    if any(MISSING_MODEL in str(getattr(r, "longrepr", "")) for r in skipped):
        session.exitstatus = SKIP_CODE
