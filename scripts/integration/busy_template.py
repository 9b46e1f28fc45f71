"""What a route ending in `template: NAME` answers with: prompts/NAME.mustache rendered the
way Tollgate renders templates (plain text, nothing HTML-escaped, the file's text verbatim,
trailing newline included). Shared by the SDK check scripts.

Only the Mustache the shipped templates use is supported: `{{name}}` and `{{#name}}...{{/name}}`
/ `{{^name}}...{{/name}}` sections. Anything else left over raises, so a template that starts
using more fails here loudly instead of being compared against a half-rendered string.
"""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROMPTS_DIR = os.path.join(ROOT, "prompts")

_SECTION = re.compile(r"\{\{([#^])\s*([\w.]+)\s*\}\}(.*?)\{\{/\s*\2\s*\}\}", re.S)
_VARIABLE = re.compile(r"\{\{(?:\{\s*([\w.]+)\s*\}|&?\s*([\w.]+)\s*)\}\}")


def render(name, **values):
    with open(os.path.join(PROMPTS_DIR, f"{name}.mustache"), encoding="utf-8") as file:
        text = file.read()

    def section(match):
        inverted, key, inner = match.group(1) == "^", match.group(2), match.group(3)
        return inner if bool(values.get(key)) != inverted else ""

    text = _SECTION.sub(section, text)
    text = _VARIABLE.sub(lambda match: str(values.get(match.group(1) or match.group(2), "")), text)
    if "{{" in text:
        raise ValueError(f"prompts/{name}.mustache uses Mustache this renderer does not support: {text!r}")
    return text
