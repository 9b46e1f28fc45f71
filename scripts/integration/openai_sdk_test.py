"""Drives a live Tollgate with the official OpenAI Python SDK, against an OpenAI upstream
(gpt-4o-mini) and an Anthropic upstream (claude-sonnet-4-5, translated both ways), plus
the fallback chain: a route whose models all fail answers with its busy template, and a
stream the provider breaks after content makes the SDK raise (the fake provider's reserved
sdk-* models and scripts/integration/90-sdk-checks.yaml; run it through run.sh).

Usage: python openai_sdk_test.py BASE_URL GATEWAY_KEY
Prints one line per check and a closing 'N passed, N failed' line; exits 1 on any failure.
"""
import json
import sys
import traceback

import openai

import busy_template

BASE_URL, KEY = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=BASE_URL, api_key=KEY, max_retries=0, timeout=30)
results = []


def check(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, None))
            print(f"PASS {name}")
        except Exception:  # noqa: BLE001 - report every failure and keep going
            results.append((name, traceback.format_exc()))
            print(f"FAIL {name}\n{traceback.format_exc()}")
        return fn
    return wrap


@check("chat completion")
def _():
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello sdk"}]
    )
    assert completion.choices[0].message.content == "Echo: hello sdk", completion
    assert completion.usage.total_tokens > 0
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-tollgate-model"] == "gpt-4o-mini"
    assert raw.headers["x-tollgate-request-id"]


@check("a repeat streamed is replayed from the cache")
def _():
    messages = [{"role": "user", "content": "cache me for the sdk"}]
    first = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    assert raw.headers["x-tollgate-cache"] == "exact", raw.headers
    text, usage, finish = "", None, None
    for chunk in raw.parse():
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    assert text == first.choices[0].message.content, text
    assert finish == "stop" and usage is not None and usage.completion_tokens == first.usage.completion_tokens


@check("a paraphrase streamed is replayed from the semantic cache")
def _():
    first = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "How can I improve my English speaking skills?"}]
    )
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "How do I improve my English speaking skills?"}], stream=True
    )
    assert raw.headers["x-tollgate-cache"] == "semantic", raw.headers
    assert 0.9 < float(raw.headers["x-tollgate-cache-similarity"]) < 1
    text = "".join(chunk.choices[0].delta.content or "" for chunk in raw.parse() if chunk.choices)
    assert text == first.choices[0].message.content, text


@check("chat completion stream")
def _():
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "stream these words"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage = "", None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage:
            usage = chunk.usage
    assert text == "Echo: stream these words", text
    assert usage is not None and usage.completion_tokens > 0


@check("unknown parameters pass through")
def _():
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "x"}],
        seed=7,
        extra_body={"future_param": {"a": 1}},
    )
    assert completion.choices[0].message.content == "Echo: x"


@check("embeddings (provider)")
def _():
    result = client.embeddings.create(model="text-embedding-3-small", input=["one", "two"])
    assert len(result.data) == 2 and len(result.data[0].embedding) > 0


@check("embeddings (local model, base64 default of the SDK)")
def _():
    result = client.embeddings.create(model="local/all-MiniLM-L6-v2", input=["a cat sat", "a dog ran"])
    assert len(result.data) == 2
    vector = result.data[0].embedding
    assert len(vector) == 384, len(vector)
    norm = sum(v * v for v in vector) ** 0.5
    assert abs(norm - 1) < 1e-3, norm
    assert result.usage.prompt_tokens > 0


@check("models")
def _():
    ids = [model.id for model in client.models.list()]
    assert "gpt-4o-mini" in ids, ids


@check("bad key is AuthenticationError")
def _():
    bad = openai.OpenAI(base_url=BASE_URL, api_key="tg-wrong", max_retries=0)
    try:
        bad.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    except openai.AuthenticationError as error:
        assert error.status_code == 401
        assert error.code == "invalid_api_key", error.body
    else:
        raise AssertionError("expected AuthenticationError")


@check("unknown model is NotFoundError")
def _():
    try:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    except openai.NotFoundError as error:
        assert error.code == "model_not_found"
    else:
        raise AssertionError("expected NotFoundError")


@check("bad request is BadRequestError")
def _():
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=[])
    except openai.BadRequestError as error:
        assert error.param == "messages", error.body
    else:
        raise AssertionError("expected BadRequestError")


CLAUDE = "claude-sonnet-4-5"
TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a place",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
    },
}]


@check("anthropic upstream: chat completion")
def _():
    raw = client.chat.completions.with_raw_response.create(
        model=CLAUDE, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello claude"}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "Echo: hello claude", completion
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    assert raw.headers["x-tollgate-model"] == CLAUDE
    assert float(raw.headers["x-tollgate-cost-usd"]) > 0


@check("anthropic upstream: stream with usage")
def _():
    stream = client.chat.completions.create(
        model=CLAUDE, messages=[{"role": "user", "content": "stream from claude"}], stream=True,
        stream_options={"include_usage": True},
    )
    text, usage, finish = "", None, None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    assert text == "Echo: stream from claude", text
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens > 0


@check("anthropic upstream: tool calls round trip")
def _():
    messages = [{"role": "user", "content": "call_tool: Paris"}]
    first = client.chat.completions.create(model=CLAUDE, messages=messages, tools=TOOLS)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls", choice
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"location": "Paris"}
    messages += [choice.message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "14 degrees"}]
    second = client.chat.completions.create(model=CLAUDE, messages=messages, tools=TOOLS)
    assert second.choices[0].message.content == "Tool said: 14 degrees", second


@check("anthropic upstream: streamed tool call arguments")
def _():
    stream = client.chat.completions.create(
        model=CLAUDE, messages=[{"role": "user", "content": "call_tool: Bogotá"}], tools=TOOLS, stream=True
    )
    name, arguments, finish = None, "", None
    for chunk in stream:
        if not chunk.choices:
            continue
        for call in chunk.choices[0].delta.tool_calls or []:
            name = call.function.name or name
            arguments += call.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert name == "get_weather" and finish == "tool_calls"
    assert json.loads(arguments) == {"location": "Bogotá"}, arguments


@check("anthropic upstream: unsupported parameter is BadRequestError naming it")
def _():
    try:
        client.chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": "x"}], seed=7)
    except openai.BadRequestError as error:
        assert error.param == "seed" and error.code == "unsupported_parameter", error.body
    else:
        raise AssertionError("expected BadRequestError")


# Fallback chain (routes from scripts/integration/90-sdk-checks.yaml; the sdk-* models are the
# stand-alone fake provider's reserved names, see Tests/FakeProviderServer/main.swift).
ALL_DOWN = "sdk-all-down"  # alias: a 503 model, then a 500 model, then `template: busy`


@check("every model down: template answer")
def _():
    raw = client.chat.completions.with_raw_response.create(
        model=ALL_DOWN, messages=[{"role": "user", "content": "are you there?"}]
    )
    completion = raw.parse()
    assert raw.headers["x-tollgate-fallback"] == "template", dict(raw.headers)
    expected = busy_template.render("busy", request_id=raw.headers["x-tollgate-request-id"])
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == expected, (choice.message.content, expected)
    assert choice.finish_reason == "stop", choice
    assert float(raw.headers["x-tollgate-cost-usd"]) == 0, raw.headers["x-tollgate-cost-usd"]


@check("every model down: template answer, streamed")
def _():
    raw = client.chat.completions.with_raw_response.create(
        model=ALL_DOWN, messages=[{"role": "user", "content": "are you there?"}], stream=True,
        stream_options={"include_usage": True},
    )
    assert raw.headers["x-tollgate-fallback"] == "template", dict(raw.headers)
    text, finish, usage = "", None, None
    for chunk in raw.parse():
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    assert text == busy_template.render("busy", request_id=raw.headers["x-tollgate-request-id"]), text
    assert finish == "stop", finish
    assert usage is not None


# What the fake provider streams for its sdk-*-stream-* models before it fails: the first
# words of this (how many depends on the upstream's format).
BROKEN_STREAM_TEXT = " ".join(f"word{n}" for n in range(9))

for upstream in ("openai", "anthropic"):
    for kind, how in (("error", "an error event"), ("cut", "a connection cut")):

        @check(f"{upstream} upstream: {how} after content raises APIError mid-stream")
        def _(model=f"sdk-{upstream}-stream-{kind}"):
            # openai-python raises APIError for any chunk whose JSON has an "error" key; a
            # stream that merely stops (no [DONE]) would end the loop quietly, and a dropped
            # connection would surface as an httpx error, not an openai one.
            stream = client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "start then fail"}], stream=True
            )
            text = ""
            try:
                for chunk in stream:
                    if chunk.choices:
                        text += chunk.choices[0].delta.content or ""
            except openai.APIError as error:
                assert type(error) is openai.APIError, f"{type(error).__name__}: {error}"
                assert isinstance(error.body, dict) and error.body.get("message"), error.body
            else:
                raise AssertionError(f"the stream ended without an error after {text!r}")
            assert text.startswith("word0") and BROKEN_STREAM_TEXT.startswith(text), text


passed = sum(1 for _, failure in results if failure is None)
failed = len(results) - passed
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
