#!/usr/bin/env python3
"""`llcuda template` against jinja2 (the chat-template golden files): every conversation of the
Llama-3, Qwen3, SmolLM2 and Gemma-3 templates rendered byte-identically, and clear errors for bad
input. Usage: template_cli_test.py PATH/TO/llcuda REPO_ROOT"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402

llcuda, root = sys.argv[1], Path(sys.argv[2])
golden = root / "tests" / "golden" / "template"
check = Checks()


with tempfile.TemporaryDirectory() as d:
    tmp = Path(d)
    for name in ("llama3", "qwen3", "smollm2", "gemma3"):
        g = json.loads((golden / f"chat_{name}.json").read_text())
        template = tmp / f"{name}.jinja"
        template.write_text(g["template"])
        n = 0
        for case in g["cases"]:
            if "error" in case or "expected" not in case:
                continue
            messages = tmp / "messages.json"
            messages.write_text(json.dumps(case["messages"]))
            args = ["template", "--template", str(template), "--messages", str(messages),
                    "--now-epoch", str(int(g.get("now_epoch", 0)))]
            if case.get("add_generation_prompt"):
                args.append("--add-generation-prompt")
            if case.get("tools") is not None:
                tools = tmp / "tools.json"
                tools.write_text(json.dumps(case["tools"]))
                args += ["--tools", str(tools)]
            for key, value in case.get("extra", {}).items():
                args += ["--var", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
            out = subprocess.run([llcuda] + args, capture_output=True)
            ok = out.returncode == 0 and out.stdout.decode() == case["expected"]
            check(ok, f"{name}/{case.get('name')}: exit {out.returncode} {out.stderr[:300]!r}")
            n += 1
        print(f"{name}: {n} conversations")

    bad_json = tmp / "bad.json"
    bad_json.write_text("[{")
    out = subprocess.run([llcuda, "template", "--template", str(tmp / "smollm2.jinja"), "--messages", str(bad_json)],
                         capture_output=True)
    check(out.returncode == 1 and b"not valid JSON" in out.stderr, f"invalid JSON: {out.stderr!r}")
    broken = tmp / "broken.jinja"
    broken.write_text("line one\n{% for m in messages %}{{ m.content }\n")
    ok_messages = tmp / "ok.json"
    ok_messages.write_text('[{"role": "user", "content": "hi"}]')
    out = subprocess.run([llcuda, "template", "--template", str(broken), "--messages", str(ok_messages)], capture_output=True)
    check(out.returncode == 1 and b"line 2" in out.stderr, f"template error position: {out.stderr!r}")
    out = subprocess.run([llcuda, "template", "--template", str(tmp / "missing.jinja"), "--messages", str(ok_messages)],
                         capture_output=True)
    check(out.returncode == 1 and b"missing.jinja" in out.stderr, f"missing template: {out.stderr!r}")
check.finish()
