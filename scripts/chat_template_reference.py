#!/usr/bin/env python3
"""Reference renderings of the project's chat templates, made with Python's jinja2 under the settings Hugging Face
transformers uses in apply_chat_template (sandboxed environment, trim_blocks, lstrip_blocks, loop controls,
tojson without ASCII escaping, raise_exception, strftime_now). The Java renderer (engine chat package) must
reproduce every string exactly; ChatTemplateReferenceTest reads the JSON this writes.

Usage: python3 scripts/chat_template_reference.py > engine/src/test/resources/chat/reference-renderings.json
"""
import json
import sys
from datetime import datetime
from pathlib import Path

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parent.parent
# strftime_now is fixed so the renderings do not depend on the day they were made; the Java test uses this date.
NOW = datetime(2026, 3, 7, 9, 5, 4)

# Special tokens each template is rendered with (as tokenizer_config.json gives them to the template).
LLAMA3 = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}
TEMPLATES = {
    "data/chat-templates/meta-llama-Llama-3.1-8B-Instruct.jinja": LLAMA3,
    "data/chat-templates/meta-llama-Llama-3.2-3B-Instruct.jinja": LLAMA3,
    "data/chat-templates/meta-llama-Llama-3.3-70B-Instruct.jinja": LLAMA3,
    "data/chat-templates/deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja":
        {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"},
    "data/chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "data/chat-templates/mistralai-Mistral-Nemo-Instruct-2407.jinja": {"bos_token": "<s>", "eos_token": "</s>"},
    "data/chat-templates/microsoft-Phi-3.5-mini-instruct.jinja": {"bos_token": "<s>", "eos_token": "<|endoftext|>"},
    "data/chat-templates/google-gemma-2-2b-it.jinja": {"bos_token": "<bos>", "eos_token": "<eos>"},
}
# Templates inside tokenizer_config.json files: special tokens come from the same file.
CONFIGS = ["data/tokenizers/llama3/tokenizer_config.json", "data/tokenizers/qwen3/tokenizer_config.json",
           "data/tokenizers/llama2-hf/tokenizer_config.json"]

CONVERSATIONS = {
    "single-user": [{"role": "user", "content": "Hello!"}],
    "system-user": [{"role": "system", "content": "You are a terse assistant."},
                    {"role": "user", "content": "Name three primes."}],
    "multi-turn": [{"role": "user", "content": "What is 2+2?"},
                   {"role": "assistant", "content": "4"},
                   {"role": "user", "content": "And times 3?"}],
    "system-multi-turn": [{"role": "system", "content": "Answer in French."},
                          {"role": "user", "content": "Good morning"},
                          {"role": "assistant", "content": "Bonjour"},
                          {"role": "user", "content": "Thanks"}],
    "whitespace-unicode": [{"role": "user", "content": "  Grüße, 世界! 🎉\n\ttabs and \"quotes\" \\ back  \n"},
                           {"role": "assistant", "content": "\n Ça va? {{ not a tag }} {% raw %} "},
                           {"role": "user", "content": "<|eot_id|> <|im_end|> literal"}],
    "thinking-assistant": [{"role": "user", "content": "Think first."},
                           {"role": "assistant", "content": "<think>\nstep one\n</think>\n\nThe answer."},
                           {"role": "user", "content": "Again."}],
    "ends-with-assistant": [{"role": "user", "content": "Start a story"},
                            {"role": "assistant", "content": "Once upon a time"}],
}


def render(source, tokens, messages, add_generation_prompt):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return NOW.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    template = env.from_string(source)
    return template.render(messages=messages, add_generation_prompt=add_generation_prompt, **tokens)


def main():
    cases = []
    sources = [(name, (ROOT / name).read_text(encoding="utf-8"), tokens) for name, tokens in TEMPLATES.items()]
    for name in CONFIGS:
        config = json.loads((ROOT / name).read_text(encoding="utf-8"))
        tokens = {k: (v["content"] if isinstance(v, dict) else v) for k, v in config.items()
                  if k.endswith("_token") and v is not None}
        sources.append((name, config["chat_template"], tokens))
    for name, source, tokens in sources:
        for conversation, messages in CONVERSATIONS.items():
            for add_generation_prompt in (True, False):
                case = {"template": name, "conversation": conversation,
                        "add_generation_prompt": add_generation_prompt}
                try:
                    case["text"] = render(source, tokens, messages, add_generation_prompt)
                except jinja2.exceptions.TemplateError as e:
                    case["error"] = str(e)
                cases.append(case)
    json.dump({"generator": "scripts/chat_template_reference.py", "jinja2": jinja2.__version__,
               "strftime_now": NOW.isoformat(), "conversations": CONVERSATIONS, "cases": cases},
              sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

# tojson-reference.json (PythonJsonTest) was written with:
#   v = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string",
#        "description": "Ville «x» \"q\"\n"}}, "required": ["city"]}, "n": [1, 2.5, 1e-05, True, None, []], "e": {}}
#   {"value": v, "compact": json.dumps(v, ensure_ascii=False), "indent4": json.dumps(v, ensure_ascii=False, indent=4)}
