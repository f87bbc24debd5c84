"""A tally for the Python test scripts: each check counts as passed or failed, and finish() prints
the closing line CI reads ("N passed, M failed, K inputs missing") and exits.

Missing inputs are never a pass:
  - missing_model(path): a real model from scripts/fetch-models.sh. A failure when
    LLCUDA_REQUIRE_MODELS=1 (CI, scripts/test.sh); otherwise recorded, and finish() exits with
    SKIP_CODE, which ctest counts as a skip (SKIP_RETURN_CODE, tests/CMakeLists.txt).
  - missing_data(path): a file of the repository's own test data (tests/data, unpacked by the
    build). Always a failure: the repository carries it, so its absence is a bug.
"""
import os
import sys

SKIP_CODE = 77  # ctest's SKIP_RETURN_CODE for every Python test (llcuda_add_python_test)


def models_required():
    return os.environ.get("LLCUDA_REQUIRE_MODELS") == "1"


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.missing = []

    def __call__(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAILED:", what)

    def missing_model(self, path):
        if models_required():
            self(False, f"missing model {path} (LLCUDA_REQUIRE_MODELS=1; run scripts/fetch-models.sh)")
        else:
            self.missing.append(str(path))
            print(f"SKIPPED: missing model {path} (run scripts/fetch-models.sh)")

    def missing_data(self, path):
        self(False, f"missing test data {path} (unpacked from tests/data by the build; "
                    "run scripts/prepare-test-data.sh)")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed, {len(self.missing)} inputs missing")
        if self.failed:
            sys.exit(1)
        if not self.passed and not self.missing:
            print("FAILED: no check ran")
            sys.exit(1)
        if self.missing:
            print(f"skipped in part: {', '.join(self.missing)}")
            sys.exit(SKIP_CODE)
        sys.exit(0)
