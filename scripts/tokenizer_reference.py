#!/usr/bin/env python3
"""Expected token ids for Tollgate's BPE token counter (Tests/TollgateCoreTests/Fixtures).

The reference is OpenAI's own `tiktoken` (pinned in tokenizer_reference.requirements.txt),
reading the same rank files as the Swift tests: scripts/setup-tokenizer.sh puts them in
models/tokenizers/, and this script hands them to tiktoken through a private
TIKTOKEN_CACHE_DIR (tiktoken names cache files by the SHA-1 of their URL and checks their
sha256 itself), so nothing is downloaded.

Writes tokenizer-cases.json: for each text, the ids of `encode_ordinary` (special tokens
such as <|endoftext|> encoded as plain text) with o200k_base and cl100k_base; then a few
chat requests with their prompt-token count as the OpenAI cookbook computes it.

Usage:
  scripts/setup-tokenizer.sh
  python3 -m venv /tmp/tok && /tmp/tok/bin/pip install -r scripts/tokenizer_reference.requirements.txt
  /tmp/tok/bin/python scripts/tokenizer_reference.py [--out FILE] [--random N] [--seed S]

--random N adds N random strings over a hand-picked alphabet of tricky scalars (spaces,
newlines, apostrophes, marks, letter cases, digits of other scripts...); the committed
fixture has 400 (and a tenth as many long single pieces). Pass a large N with --out outside the repository and point the tests at it
with TOLLGATE_TOKENIZER_FIXTURE=FILE for a longer comparison.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENCODINGS = ("o200k_base", "cl100k_base")
URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"

# MARK: - Texts

CODE_SWIFT = '''\
import Foundation

/// Counts tokens.
struct Counter: Sendable {
    let ranks: [String: Int]   // 200k entries
    func count(_ text: String) -> Int {
        guard !text.isEmpty else { return 0 }
        return text.split(separator: " ").reduce(0) { $0 + ($1.count + 3) / 4 }
    }
}
'''

CODE_PYTHON = '''\
def fib(n: int) -> int:
\tif n < 2:
\t\treturn n
\treturn fib(n - 1) + fib(n - 2)


print([fib(i) for i in range(10)])  # [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]\r
'''

JSON_TEXT = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":0.7,"max_tokens":256}'

ENGLISH = (
    "The quick brown fox jumps over the lazy dog. It's a well-known pangram; "
    "typographers've used it since the late 19th century to show off typefaces."
)

TEXTS = [
    "",
    "hello",
    " hello",
    "hello world",
    "Hello, World!",
    ENGLISH,
    CODE_SWIFT,
    CODE_PYTHON,
    JSON_TEXT,
    # numbers
    "1234567890",
    "3.14159265358979",
    "1,000,000 and 2.5e-10 and -42 and 0x1F",
    "Call 555-0123 or +1 (800) 555 0199 before 2024-12-31T23:59:59Z.",
    # contractions, case-insensitive ones and their near misses
    "I'm you're they'll we've he'd it's can't won't",
    "I'M YOU'RE THEY'LL WE'VE HE'D IT'S CAN'T",
    "We'Ll sHe'S 'S 'll 'LL 'Re 'rE 'x 'lx 'v 'vee",
    "rock'n'roll o'clock y'all ma'am 'tis '90s",
    "dogſ'ſ 'ſ ſtop 'ſt",
    "Don't DON'T don'T McDonald's O'Neil's",
    "''''' '' ' s",
    # whitespace
    "a  b   c    d",
    "a\n\nb\n\n\nc",
    "  \n  x",
    "hello   ",
    "\t\t",
    "\r\n",
    "\n \n",
    "x \n",
    "x\n ",
    "   ",
    " ",
    "\n",
    "a \t b\t\tc \n\n d\r\n\r\ne",
    "line one\r\nline two\r\n\r\n    indented\n\tTabbed  \n",
    "trailing newline\n",
    "ends with spaces and newline  \n  ",
    "a\u00a0b\u2003c\u3000d\u2028e\u0085f\u000bg\u000ch",
    # CJK and other scripts
    "你好，世界！今天天气很好。",
    "こんにちは世界、カタカナとひらがな。",
    "안녕하세요 세계",
    "مرحبا بالعالم، كيف حالك؟",
    "שלום עולם! מה שלומך?",
    "\u202bRTL embedded\u202c and \u200fmark\u200e",
    "Привет, мир! Ёлки-палки.",
    "Γειά σου Κόσμε ΣΊΣΥΦΟΣ",
    "नमस्ते दुनिया",
    "สวัสดีครับ ประเทศไทย",
    "ሰላም ዓለም",
    # emoji
    "👍 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇩🇪 ❤️ 🤖✨",
    "emoji at end 😀",
    "😀😀😀😀😀",
    # accents and marks
    "café naïve résumé Zürich Ångström",
    "cafe\u0301 nai\u0308ve",
    "\u0301\u0301abc",
    "A\u0301B\u0301C\u0301",
    "é\u0301É",
    # letter cases (o200k's classes)
    "HelloWORLDFooBar iPhone eBay camelCaseIdentifier",
    "SCREAMING_SNAKE_CASE and snake_case and kebab-case",
    "ǅemal ǈubljana ǋ ʰʲʷ ˢᵘᵖ",
    "ABCあDEF xyzあBCD",
    "ÀÉÎÕÜ àéîõü ÀéÎõÜ",
    "HTTPServer URLSession JSONDecoder XMLHttpRequest",
    # numbers of other scripts
    "x² y³ ½ ¾ Ⅻ ⅷ ①②③ ١٢٣٤٥ ０１２３４５ ๑๒๓",
    # long words
    "supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
    "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft",
    "a" * 300,
    "ab" * 200,
    "9" * 100,
    "=" * 120,
    " " * 50 + "x",
    "\n" * 20,
    "aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQgZW5jb2RlZCB0ZXh0IQ==",
    "deadbeef0123456789abcdefDEADBEEF",
    # punctuation, paths and markup
    "https://example.com/path/to/resource?query=1&x=y#frag",
    "/usr/local/bin// a//\n b/\n/ c!!\n\n/",
    "C:\\Users\\me\\file.txt",
    "# Title\n\n- item **bold** _it_ `code`\n\n```swift\nlet x = 1\n```\n",
    "<div class=\"a\">x &amp; y</div>",
    "∀x∈ℝ: x² ≥ 0 → √(x²) = |x| ≠ −x",
    "$100 €50 £30 ¥2000 ₿0.001",
    "...!!!???---___***",
    " !x ?y .z",
    # special tokens are plain text
    "<|endoftext|>",
    "before <|endoftext|> after <|fim_prefix|><|fim_middle|><|fim_suffix|><|endofprompt|>",
    # control characters
    "\u0000\u0001\u001f\u007f",
]

# The alphabet of the random strings: one entry per draw.
RANDOM_ALPHABET = [
    "a", "b", "s", "t", "e", "r", "v", "l", "m", "d", "x",
    "A", "S", "T", "E", "R", "V", "L", "M", "D", "X",
    "0", "1", "9", "²", "٣", "Ⅻ",
    " ", " ", " ", "\n", "\r", "\t", "\u00a0", "\u3000", "\u0085", "\u2028",
    "'", "'", "/", ".", ",", "!", "-", "_", "(", '"', "#", "😀", "\u200d", "\ufe0f",
    "ſ", "é", "\u0301", "\u0308", "ǅ", "ʰ", "あ", "中", "Σ", "ß", "ё", "Ё", "ا", "ก", "\u0e31",
]


# Alphabets of long single pieces (no spaces), which byte-pair merging handles with a heap.
LONG_PIECE_ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyz",
    "etaoinshrdlu",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "αβγδεζηθικλμνξοπρστυφχψω",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "กขคงจฉชซญดตถทนบปผพฟภมยรลวศษสหอฮะาำิีึืุู่้๊๋",
    "!@#$%^&*()_+-=[]{};:,.<>?|~`",
    "0123456789",
    "😀😃😄😁🤖✨🎉👍",
]


def random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        length = rng.randint(1, 24)
        texts.append("".join(rng.choice(RANDOM_ALPHABET) for _ in range(length)))
    for _ in range(max(1, count // 10)):
        alphabet = rng.choice(LONG_PIECE_ALPHABETS)
        length = rng.randint(16, 160)
        texts.append("".join(rng.choice(alphabet) for _ in range(length)))
    return texts


# MARK: - Chat requests (the OpenAI cookbook's num_tokens_from_messages)

CHATS = [
    {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What's the capital of France?"},
        ],
    },
    {
        "model": "gpt-4",
        "messages": [
            {"role": "system", "content": "You answer in JSON."},
            {"role": "user", "name": "alice", "content": "List three primes."},
            {"role": "assistant", "content": "[2, 3, 5]"},
            {"role": "user", "content": [
                {"type": "text", "text": "And now three more,"},
                {"type": "text", "text": " please."},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/b.png"}},
            ]},
        ],
    },
    {
        "model": "gpt-5",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 21, \"sky\": \"clear\"}"},
        ],
        "tools": [
            {"type": "function", "function": {
                "name": "get_weather",
                "description": "Current weather for a city — température incluse.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            }},
        ],
    },
]


def encoding_for_model(model: str) -> str:
    name = model.lower().rsplit("/", 1)[-1]
    if name.startswith("ft:"):
        name = name[3:]
    if name.startswith(("gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-oss", "o1", "o3", "o4", "codex-")):
        return "o200k_base"
    if name.startswith(("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada-002")):
        return "cl100k_base"
    return "o200k_base"


def chat_tokens(enc, request: dict) -> int:
    """The cookbook's count (3 per message, role and name and text, 3 to prime the reply),
    with Tollgate's documented extensions: images at a flat estimate, tool calls and tool
    definitions as compact JSON with sorted keys."""
    count = lambda s: len(enc.encode_ordinary(s))
    as_json = lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    total = 3
    for message in request["messages"]:
        total += 3 + count(message["role"])
        if "name" in message:
            total += 1 + count(message["name"])
        content = message.get("content")
        if isinstance(content, str):
            total += count(content)
        elif isinstance(content, list):
            for part in content:
                if part["type"] == "text":
                    total += count(part["text"])
                elif part["type"] == "image_url":
                    total += 85 if part["image_url"].get("detail") == "low" else 765
        for call in message.get("tool_calls", []):
            total += count(as_json(call))
        if "tool_call_id" in message:
            total += count(message["tool_call_id"])
    for tool in request.get("tools", []):
        total += count(as_json(tool))
    return total


# MARK: - Main

def load_encodings(rank_dir: Path):
    cache = Path(tempfile.mkdtemp(prefix="tiktoken-cache-"))
    try:
        for name in ENCODINGS:
            source = rank_dir / f"{name}.tiktoken"
            if not source.is_file():
                sys.exit(f"{source} is missing: run scripts/setup-tokenizer.sh first")
            shutil.copyfile(source, cache / hashlib.sha1(URL.format(name).encode()).hexdigest())
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
        import tiktoken  # after TIKTOKEN_CACHE_DIR is set

        return tiktoken.__version__, {name: tiktoken.get_encoding(name) for name in ENCODINGS}
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rank-dir", type=Path, default=REPO / "models" / "tokenizers")
    parser.add_argument("--out", type=Path, default=REPO / "Tests" / "TollgateCoreTests" / "Fixtures" / "tokenizer-cases.json")
    parser.add_argument("--random", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20240513)
    args = parser.parse_args()

    version, encodings = load_encodings(args.rank_dir)
    texts = TEXTS + random_texts(args.random, args.seed)
    cases = [{"text": text, **{name: enc.encode_ordinary(text) for name, enc in encodings.items()}} for text in texts]
    chats = [
        {"request": request, "encoding": encoding_for_model(request["model"]),
         "tokens": chat_tokens(encodings[encoding_for_model(request["model"])], request)}
        for request in CHATS
    ]
    document = {"tiktoken": version, "cases": cases, "chats": chats}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="ascii") as f:
        json.dump(document, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {args.out}: {len(cases)} texts, {len(chats)} chats (tiktoken {version})", file=sys.stderr)


if __name__ == "__main__":
    main()
