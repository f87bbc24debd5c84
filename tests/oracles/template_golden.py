#!/usr/bin/env python3
"""Generates the chat-template golden files with jinja2, configured the way transformers does it.

transformers (utils/chat_template_utils.py, _cached_compile_jinja_template) renders chat templates
with an ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) plus the loopcontrols
extension and its own `{% generation %}` tag, replaces the tojson filter by json.dumps with
ensure_ascii=False, and adds the globals raise_exception, strftime_now, dict and namespace (which
refuses underscore attributes). render_jinja_template passes messages (with reasoning fields
aliased), tools, documents, add_generation_prompt and the caller's extra variables. This script
rebuilds that environment with jinja2 directly, so transformers itself is not needed.

strftime_now is pinned to NOW_EPOCH (rendered in UTC) so the golden output is reproducible; the C++
test passes the same instant and sets TZ=UTC.

Outputs (tests/golden/template/):
  chat_<model>.json  template text + ~15 conversations each, with jinja2's output or error
  snippets.json      small templates exercising one construct each, with output or error

Usage: python3 tests/oracles/template_golden.py [--models-dir DIR]
"""
import argparse
import copy
import json
import os
import sys
from datetime import datetime, timezone

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from template_cases import CHAT_CASES, SNIPPETS, GEMMA3_FALLBACK_TEMPLATE

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from test_data import tokenizer_dir  # noqa: E402

NOW_EPOCH = 1721995200  # 2024-07-26 12:00:00 UTC

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(ROOT, "tests", "golden", "template")


class GenerationTag(jinja2.ext.Extension):
    """`{% generation %}...{% endgeneration %}` renders its body (transformers tracks indices)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.fromtimestamp(NOW_EPOCH, tz=timezone.utc).replace(tzinfo=None).strftime(fmt)

    class TemplateDict:
        def __call__(self, *args, **kwargs):
            return dict(*args, **kwargs)

    class TemplateNamespace(jinja2.utils.Namespace):
        def __init__(*args, **kwargs):
            self, args = args[0], args[1:]
            attrs = dict(*args, **kwargs)
            for name in attrs:
                TemplateNamespace._check_name(name)
            jinja2.utils.Namespace.__init__(self, attrs)

        def __setitem__(self, name, value):
            TemplateNamespace._check_name(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check_name(name):
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(f"underscore attribute {name!r}")

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    env.globals["dict"] = TemplateDict()
    env.globals["namespace"] = TemplateNamespace
    return env


REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")


def alias_reasoning(chat):
    out = []
    for message in chat:
        if isinstance(message, dict):
            reasoning = next((message[k] for k in REASONING_FIELDS if message.get(k) is not None), None)
            if reasoning is not None:
                message = {"thinking": reasoning, **message, "reasoning_content": reasoning}
        out.append(message)
    return out


def apply_chat(env, template, case):
    compiled = env.from_string(template)
    return compiled.render(
        messages=alias_reasoning(copy.deepcopy(case["messages"])),
        tools=copy.deepcopy(case.get("tools")),
        documents=None,
        add_generation_prompt=case.get("add_generation_prompt", False),
        **copy.deepcopy(case.get("extra", {})),
    )


def outcome(fn):
    try:
        return {"expected": fn()}
    except jinja2.exceptions.TemplateSyntaxError as e:
        return {"error": f"syntax: {e.message}", "error_line": e.lineno}
    except Exception as e:  # the C++ side must fail too; the message is kept for raise_exception checks
        return {"error": f"{type(e).__name__}: {e}"}


def gguf_template(path):
    import gguf

    reader = gguf.GGUFReader(path)
    field = reader.fields.get("tokenizer.chat_template")
    if field is None:
        return None
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def load_templates(models_dir):
    templates = {}
    for name, folder in (("llama3", "llama3-instruct"), ("qwen3", "qwen3")):
        with open(tokenizer_dir(folder) / "tokenizer_config.json", encoding="utf-8") as f:
            templates[name] = (json.load(f)["chat_template"],
                               f"tests/data/tokenizer-{folder}.tar.xz: tokenizers/{folder}/tokenizer_config.json")
    for name, file in (("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"), ("gemma3", "gemma-3-270m-q4_k_m.gguf")):
        path = os.path.join(models_dir, file)
        text = gguf_template(path) if os.path.exists(path) else None
        if text is not None:
            templates[name] = (text, f"GGUF tokenizer.chat_template of {file}")
        elif name == "gemma3":
            # The Gemma-3 270M GGUF in the model cache carries no tokenizer.chat_template key;
            # use the template Google ships in the google/gemma-3-*-it tokenizer_config.json.
            templates[name] = (GEMMA3_FALLBACK_TEMPLATE, "google/gemma-3-it tokenizer_config.json (GGUF has no template)")
        else:
            sys.exit(f"missing {path}")
    return templates


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models-dir", default=os.path.expanduser("~/.cache/llcuda/models"))
    args = ap.parse_args()
    os.makedirs(GOLDEN, exist_ok=True)
    env = make_env()

    for name, (template, source) in load_templates(args.models_dir).items():
        cases = []
        for case in CHAT_CASES[name]:
            c = dict(case)
            c.update(outcome(lambda: apply_chat(env, template, case)))
            cases.append(c)
        doc = {"jinja2_version": jinja2.__version__, "now_epoch": NOW_EPOCH, "template_source": source,
               "template": template, "cases": cases}
        with open(os.path.join(GOLDEN, f"chat_{name}.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(f"chat_{name}.json: {len(cases)} cases, {sum('error' in c for c in cases)} errors")

    snippets = []
    for s in SNIPPETS:
        c = dict(s)
        c.update(outcome(lambda: env.from_string(s["template"]).render(**copy.deepcopy(s.get("vars", {})))))
        snippets.append(c)
    with open(os.path.join(GOLDEN, "snippets.json"), "w", encoding="utf-8") as f:
        json.dump({"jinja2_version": jinja2.__version__, "now_epoch": NOW_EPOCH, "snippets": snippets}, f,
                  ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"snippets.json: {len(snippets)} snippets, {sum('error' in c for c in snippets)} errors")


if __name__ == "__main__":
    main()
