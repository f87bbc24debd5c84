#!/usr/bin/env python3
"""Random differential testing of the chat-template interpreter against jinja2.

Generates random templates (expressions, filters, tests, methods, loops, macros, whitespace
control) and random conversations for the four real chat templates, renders them with jinja2 in
transformers' environment (template_golden.make_env) and with build/tests/template/
template_render_json, and reports every difference. Known, documented differences are skipped:
jinja2 prints generators/ranges/dict views/Markup with Python reprs (addresses), and its generator
filters fail lazily. Nothing here is a golden file; fix what it finds and add a snippet to
template_cases.py.

Usage: python3 tests/oracles/template_differential.py BUILD_DIR [--seed N] [--templates N] [--chats N]
"""
import argparse
import copy
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from template_cases import TOOLS  # noqa: E402
from template_golden import GOLDEN, NOW_EPOCH, alias_reasoning, make_env  # noqa: E402

KNOWN = ("object at 0x", "range(", "Markup(", "dict_values(", "dict_keys(", "dict_items(", "<generator", "generator object", "Reversed Object")

VARS = {"messages": [{"role": "system", "content": " Sys prompt\n"}, {"role": "user", "content": "Hi é 😀 <tool_response>x</tool_response>"},
                     {"role": "assistant", "content": "<think>\nr\n</think>\n\nok", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": [1, 2.5, None, True], "b": "s"}}}]},
                     {"role": "tool", "content": "{\"x\": 1}"}, {"role": "user", "content": [{"type": "text", "text": " t "}, {"type": "image"}]}],
        "tools": [{"type": "function", "function": {"name": "f", "description": "d'q\"", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}}],
        "n": 3, "x": 2.5, "s": "  Hello World  ", "e": "", "z": None, "t": True, "l": [3, 1, 2], "d": {"b": 1, "a": "x", "c": [1, {"k": None}]}}


R = random.Random(0)

ATOMS = ["n", "x", "s", "e", "z", "t", "l", "d", "messages", "tools", "missing", "1", "0", "-2", "2.5", "'str'", "\"dq\"", "''", "none", "true", "false",
         "[1, 'a']", "{'k': 1}", "(1, 2)", "messages[0]", "messages[-1]", "messages[1:]", "d.a", "d['c'][1]", "messages[2].tool_calls[0].function",
         "loop_var", "ns.v", "s[1:4]", "l[::-1]", "messages|length", "range(3)"]
UN = ["not ", "-", ""]
BIN = [" + ", " - ", " * ", " / ", " // ", " % ", " ~ ", " == ", " != ", " < ", " >= ", " and ", " or ", " in ", " not in "]
FILTERS = ["trim", "length", "tojson", "upper", "lower", "first", "last", "list", "string", "int", "float", "join(', ')", "default('D')",
           "default('D', true)", "capitalize", "title", "replace('l', 'L')", "items", "dictsort", "sort", "reverse", "unique", "sum", "abs",
           "indent(2)", "tojson(indent=2)", "map(attribute='role')", "selectattr('role', 'equalto', 'user')", "rejectattr('content')", "safe", "count",
           "round(1)", "batch(2)", "min", "max", "wordcount", "center(9)", "e", "select('odd')"]
TESTS = ["defined", "undefined", "none", "string", "number", "mapping", "iterable", "sequence", "true", "false", "boolean", "integer", "float",
         "odd", "even", "divisibleby(2)", "in([1, 2])", "eq(1)", "lower", "upper", "callable"]
METHODS = ["strip()", "lstrip()", "rstrip('d ')", "split()", "split('l')", "upper()", "lower()", "startswith('He')", "endswith('  ')",
           "replace('o', '0')", "title()", "find('o')", "count('l')", "get('a')", "keys()", "values()", "items()", "format(1)", "splitlines()"]

def expr(depth=0):
    r = R.random()
    if depth > 2 or r < 0.3:
        return R.choice(ATOMS)
    if r < 0.45:
        return expr(depth + 1) + R.choice(BIN) + expr(depth + 1)
    if r < 0.6:
        return "(" + expr(depth + 1) + ")|" + R.choice(FILTERS)
    if r < 0.7:
        return expr(depth + 1) + " is " + R.choice(["", "not "]) + R.choice(TESTS)
    if r < 0.8:
        return "(" + expr(depth + 1) + ")." + R.choice(METHODS)
    if r < 0.87:
        return R.choice(UN) + "(" + expr(depth + 1) + ")"
    if r < 0.94:
        return "(" + expr(depth + 1) + " if " + expr(depth + 1) + (" else " + expr(depth + 1) if R.random() < 0.7 else "") + ")"
    return "[" + expr(depth + 1) + ", " + expr(depth + 1) + "]"

WS = ["", " ", "\n", "  ", "\n  ", " \n", "\t", "\n\n", "x", "text ", "\n    "]
def o(kind="%"):
    return "{" + kind + R.choice(["", "", "-", "+"]) + " "
def c(kind="%"):
    close = "}" if kind == "{" else kind
    return " " + R.choice(["", "", "-", "+"]) + close + "}" if kind != "{" else " " + R.choice(["", "", "-"]) + "}}"

def body(depth=0):
    parts = []
    for _ in range(R.randint(1, 4)):
        parts.append(R.choice(WS))
        r = R.random()
        if r < 0.35 or depth > 2:
            parts.append("{{" + R.choice(["", "-"]) + " " + expr() + " " + R.choice(["", "-"]) + "}}")
        elif r < 0.5:
            parts.append(o() + "if " + expr() + c() + body(depth + 1) + (o() + "elif " + expr() + c() + body(depth + 1) if R.random() < 0.3 else "") +
                         (o() + "else" + c() + body(depth + 1) if R.random() < 0.4 else "") + o() + "endif" + c())
        elif r < 0.65:
            parts.append(o() + "for loop_var in " + R.choice(["messages", "l", "d", "s", "range(n)", "messages|selectattr('role', 'equalto', 'user')", "missing", "d.items()"]) +
                         (" if " + expr() if R.random() < 0.2 else "") + c() + body(depth + 1) + R.choice(["", "{{ loop.index }}{{ loop.first }}{{ loop.last }}", "{{ loop.revindex0 }}"]) +
                         (o() + "else" + c() + body(depth + 1) if R.random() < 0.2 else "") + o() + "endfor" + c())
        elif r < 0.75:
            parts.append(o() + "set " + R.choice(["n", "s", "loop_var", "ns.v"]) + " = " + expr() + c())
        elif r < 0.8:
            parts.append(o("#") + "comment" + c("#"))
        elif r < 0.9:
            parts.append(o() + "set ns = namespace(v=" + expr() + ")" + c())
        else:
            parts.append(o() + "macro mm(a, b=" + expr() + ")" + c() + body(depth + 1) + "{{ a }}{{ b }}" + o() + "endmacro" + c() + "{{ mm(" + expr() + ") }}")
    parts.append(R.choice(WS))
    return "".join(parts)



PIECES = ["hello", " ", "\n", "\t", "  ", "é", "中文", "😀", "'", '"', "\\", "{{ x }}", "{% if %}", "<think>", "</think>", "\n\n",
          "<tool_response>", "</tool_response>", "<|im_end|>", "word", "\u00a0", "\u2028", "\r\n", "%s", "{}", "0", "null"]
def text():
    return "".join(R.choice(PIECES) for _ in range(R.randint(0, 8)))
def message(role):
    m = {"role": role, "content": text()}
    if role == "assistant" and R.random() < 0.3:
        m["tool_calls"] = [{"type": "function", "function": {"name": R.choice(["get_weather", "search"]),
                            "arguments": R.choice([{"city": text()}, text(), {"n": R.randint(-5, 5), "f": R.random(), "l": [1, None, True]}])}}
                           for _ in range(R.randint(1, 2))]
    if role == "assistant" and R.random() < 0.2:
        m["reasoning_content"] = text()
    if R.random() < 0.05:
        m["content"] = [{"type": "text", "text": text()}, {"type": "image"}]
    return m


def random_chat(templates):
    name = R.choice(sorted(templates))
    roles = ["system"] if R.random() < 0.5 else []
    for k in range(R.randint(0, 6)):
        roles.append(R.choice(["user", "assistant", "tool"]) if R.random() < 0.3 else ("user" if k % 2 == 0 else "assistant"))
    extra = {"bos_token": "<s>", "eos_token": "</s>"}
    if R.random() < 0.5:
        extra["enable_thinking"] = R.choice([True, False])
    vars = {"messages": alias_reasoning([message(r) for r in roles]), "tools": TOOLS if R.random() < 0.4 else None,
            "documents": None, "add_generation_prompt": R.random() < 0.5, **extra}
    return {"template": templates[name], "vars": vars}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--templates", type=int, default=2000)
    ap.add_argument("--chats", type=int, default=2000)
    args = ap.parse_args()
    R.seed(args.seed)
    templates = {n: json.load(open(os.path.join(GOLDEN, f"chat_{n}.json"), encoding="utf-8"))["template"]
                 for n in ("llama3", "qwen3", "smollm2", "gemma3")}
    cases = [{"template": body(), "vars": VARS} for _ in range(args.templates)]
    cases += [random_chat(templates) for _ in range(args.chats)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False)
    exe = os.path.join(args.build_dir, "tests", "template", "template_render_json")
    ours = json.loads(subprocess.run([exe, f.name, str(NOW_EPOCH)], capture_output=True, check=True).stdout)
    os.unlink(f.name)
    env = make_env()
    bad = 0
    for case, mine in zip(cases, ours):
        try:
            theirs = {"out": env.from_string(case["template"]).render(**copy.deepcopy(case["vars"]))}
        except Exception as e:  # noqa: BLE001
            theirs = {"err": f"{type(e).__name__}: {e}"}
        if any(k in theirs.get("out", "") for k in KNOWN):
            continue
        if "err" in mine and "err" not in theirs and ("is not iterable" in mine["err"] or "item pairs" in mine["err"]
                                                      or "requires an integer" in mine["err"]):
            continue  # jinja2's generator filters fail lazily, only when consumed
        if ("err" in theirs) != ("err" in mine) or theirs.get("out") != mine.get("out"):
            bad += 1
            if bad <= 10:
                print("TEMPLATE:", repr(case["template"])[:600])
                print("  jinja2:", repr(theirs)[:300])
                print("  ours:  ", repr(mine)[:300])
    print(f"{len(cases)} cases ({args.templates} random templates, {args.chats} random chats), {bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
