#!/usr/bin/env python3
"""`llcuda devices`: on a machine with an NVIDIA GPU (the driver's /dev/nvidia0) and a CUDA build,
each GPU is listed with its compute capability and memory and the exit code is 0; otherwise (a CPU
machine such as the build machine, or a CPU-only build) the exit code is 1 and both the status line
and stderr say why no GPU can be used.
Usage: devices_cli_test.py PATH/TO/llcuda REPO_ROOT"""
import ctypes
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402
from cli_support import describe, run  # noqa: E402

llcuda = sys.argv[1]
check = Checks()
DEVICE = re.compile(r"  \[\d+\] .+  sm_\d+  \d+ SMs  [0-9.]+ GiB \([0-9.]+ GiB free\)")

out = run(llcuda, ["devices"])
lines = out.stdout.decode().splitlines()
check(len(lines) >= 2 and lines[0] in ("CUDA backend: built", "CUDA backend: not built"), f"devices: {lines}")
cuda_built = bool(lines) and lines[0] == "CUDA backend: built"
has_gpu = Path("/dev/nvidia0").exists()
devices = [line for line in lines[2:] if DEVICE.fullmatch(line)]
if cuda_built and has_gpu:
    check(out.returncode == 0 and devices and len(devices) == len(lines) - 2 and re.fullmatch(r"\d+ CUDA device\(s\)", lines[1]),
          f"a GPU machine: want the devices listed and exit 0, got {describe(out)} {lines}")
    print(f"{len(devices)} GPU(s) listed")
else:
    why = "no usable CUDA device: " if cuda_built else "built without CUDA"
    check(out.returncode == 1 and not devices and len(lines) == 2 and lines[1].startswith(why),
          f"no GPU (CUDA built: {cuda_built}): want exit 1 and a status starting {why!r}, got {describe(out)} {lines}")
    check(b"no usable GPU" in out.stderr and lines[1].encode() in out.stderr, f"stderr: {out.stderr!r}")
    # Without any NVIDIA driver the status names the missing driver, not a version to upgrade.
    try:
        ctypes.CDLL("libcuda.so.1")
        has_driver = True
    except OSError:
        has_driver = False
    if cuda_built and not has_driver:
        check(lines[1].endswith("no NVIDIA driver is installed (libcuda.so.1 cannot be loaded)"),
              f"no driver here: the status should say so, got {lines[1]!r}")
    print(f"no GPU here: {lines[1]!r}, exit {out.returncode}")

out = run(llcuda, ["devices", "--all"])
check(out.returncode != 0 and b"--all" in out.stderr, f"devices --all: {describe(out)}")
check.finish()
