#!/usr/bin/env python3
"""`llcuda quantize` names the file type it wrote as `llcuda inspect` does ("Q4_K - Medium (15)",
not a bare number), the gguf package reads the same general.file_type, and an output larger than
its input is explained (a Q4_1 model requantized to Q4_K_M: tensors whose rows are not a multiple of
256 fall back to Q5_0, more bits than Q4_1); a smaller output gets no such note.
Usage: quantize_cli_test.py PATH/TO/llcuda REPO_ROOT"""
import re
import sys
import tempfile
from pathlib import Path

import gguf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402
from cli_support import SMOLLM2, describe, require_models, run  # noqa: E402

llcuda, root = sys.argv[1], Path(sys.argv[2])
check = Checks()
require_models(check, SMOLLM2)
WROTE = re.compile(r"wrote .*: file type (.+) \((\d+)\), \d+ tensors, ([0-9.]+) MiB -> ([0-9.]+) MiB")

with tempfile.TemporaryDirectory() as d:
    for preset, larger in (("Q4_K_M", True), ("Q4_0", False)):
        dest = Path(d) / f"{preset}.gguf"
        out = run(llcuda, ["quantize", SMOLLM2, dest, preset, "--allow-requantize"])
        text = out.stdout.decode()
        m = WROTE.search(text)
        check(out.returncode == 0 and m is not None, f"quantize {preset}: {describe(out)} {text[-300:]!r}")
        if not m:
            continue
        inspect = run(llcuda, ["inspect", dest]).stdout.decode()
        shown = re.search(r"  file type +(.+ \(\d+\))", inspect)
        check(shown is not None and shown.group(1) == f"{m.group(1)} ({m.group(2)})",
              f"{preset}: quantize says {m.group(1)} ({m.group(2)}), inspect {shown and shown.group(1)}")
        reader = gguf.GGUFReader(dest)
        f = reader.fields["general.file_type"]
        check(int(f.parts[f.data[0]][0]) == int(m.group(2)), f"{preset}: gguf reads file type {f.parts[f.data[0]]}")
        grew = float(m.group(4)) > float(m.group(3))
        note = "note: the output is larger than the input" in text
        check(grew == larger and note == larger, f"{preset}: grew {grew}, note {note}: {text[-400:]!r}")
        if larger:
            check(re.search(r"\d+ tensors \(such as \S+ q4_1 -> \S+\) got a type with more bits", text) is not None,
                  f"{preset}: the note names a tensor: {text[-400:]!r}")
check.finish()
