"""Drives a live Tollgate with the official Anthropic Python SDK, against an Anthropic
upstream (claude-sonnet-4-5, passed through) and an OpenAI upstream (gpt-4o-mini,
translated both ways), plus the fallback chain: a route whose models all fail answers with
its busy template, and a stream the provider breaks after content makes the SDK raise (the
fake provider's reserved sdk-* models and scripts/integration/90-sdk-checks.yaml; run it
through run.sh).

Usage: python anthropic_sdk_test.py BASE_URL GATEWAY_KEY   (BASE_URL without /v1)
Prints one line per check and a closing 'N passed, N failed' line; exits 1 on any failure.
"""
import sys
import traceback

import anthropic

import busy_template

BASE_URL, KEY = sys.argv[1], sys.argv[2]
client = anthropic.Anthropic(base_url=BASE_URL, api_key=KEY, max_retries=0, timeout=30)
results = []
TOOLS = [{
    "name": "get_weather",
    "description": "Current weather for a place",
    "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
}]


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


for upstream, model in (("anthropic", "claude-sonnet-4-5"), ("openai", "gpt-4o-mini")):

    @check(f"{upstream} upstream: message")
    def _(model=model):
        raw = client.messages.with_raw_response.create(
            model=model, max_tokens=64, system="Be brief.", messages=[{"role": "user", "content": "hello sdk"}]
        )
        message = raw.parse()
        assert message.type == "message" and message.role == "assistant"
        assert message.content[0].type == "text" and message.content[0].text == "Echo: hello sdk", message
        assert message.stop_reason == "end_turn", message.stop_reason
        assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
        assert raw.headers["x-tollgate-model"] == model
        assert float(raw.headers["x-tollgate-cost-usd"]) > 0

    @check(f"{upstream} upstream: stream")
    def _(model=model):
        with client.messages.stream(
            model=model, max_tokens=64, messages=[{"role": "user", "content": "stream these words"}]
        ) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
        assert text == "Echo: stream these words", text
        assert final.stop_reason == "end_turn"
        assert final.usage.output_tokens > 0

    @check(f"{upstream} upstream: tool use round trip")
    def _(model=model):
        messages = [{"role": "user", "content": "call_tool: Paris"}]
        first = client.messages.create(model=model, max_tokens=64, tools=TOOLS, messages=messages)
        assert first.stop_reason == "tool_use", first
        use = next(block for block in first.content if block.type == "tool_use")
        assert use.name == "get_weather" and use.input == {"location": "Paris"}, use
        messages += [
            {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "14 degrees"}]},
        ]
        second = client.messages.create(model=model, max_tokens=64, tools=TOOLS, messages=messages)
        assert second.content[0].text == "Tool said: 14 degrees", second

    @check(f"{upstream} upstream: streamed tool use")
    def _(model=model):
        with client.messages.stream(
            model=model, max_tokens=64, tools=TOOLS, messages=[{"role": "user", "content": "call_tool: Bogotá"}]
        ) as stream:
            partial = "".join(event.partial_json for event in stream if event.type == "input_json")
            final = stream.get_final_message()
        use = next(block for block in final.content if block.type == "tool_use")
        assert use.name == "get_weather" and use.input == {"location": "Bogotá"}, final
        assert partial, "the input arrived as input_json deltas"
        assert final.stop_reason == "tool_use"


@check("a repeat streamed is replayed from the cache")
def _():
    messages = [{"role": "user", "content": "cache me for the sdk"}]
    first = client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=messages)
    raw = client.messages.with_raw_response.create(model="claude-sonnet-4-5", max_tokens=64, messages=messages, stream=True)
    assert raw.headers["x-tollgate-cache"] == "exact", raw.headers
    text, stop = "", None
    for event in raw.parse():
        if event.type == "content_block_delta":
            text += event.delta.text
        elif event.type == "message_delta":
            stop = event.delta.stop_reason
    assert text == first.content[0].text, text
    assert stop == first.stop_reason


@check("a paraphrase streamed is replayed from the semantic cache")
def _():
    first = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "What is the capital city of France?"}]
    )
    raw = client.messages.with_raw_response.create(
        model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "What's the capital city of France?"}],
        stream=True,
    )
    assert raw.headers["x-tollgate-cache"] == "semantic", raw.headers
    text = "".join(event.delta.text for event in raw.parse() if event.type == "content_block_delta")
    assert text == first.content[0].text, text


@check("models")
def _():
    ids = [model.id for model in client.models.list()]
    assert "claude-sonnet-4-5" in ids and "gpt-4o-mini" in ids, ids


@check("bad key is AuthenticationError")
def _():
    bad = anthropic.Anthropic(base_url=BASE_URL, api_key="tg-wrong", max_retries=0)
    try:
        bad.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    except anthropic.AuthenticationError as error:
        assert error.status_code == 401
        assert error.body["error"]["type"] == "authentication_error", error.body
    else:
        raise AssertionError("expected AuthenticationError")


@check("unknown model is NotFoundError")
def _():
    try:
        client.messages.create(model="no-such-model", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    except anthropic.NotFoundError as error:
        assert error.body["error"]["type"] == "not_found_error", error.body
    else:
        raise AssertionError("expected NotFoundError")


@check("bad request is BadRequestError")
def _():
    try:
        client.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=[])
    except anthropic.BadRequestError as error:
        assert error.body["error"]["type"] == "invalid_request_error" and "messages" in error.message, error.body
    else:
        raise AssertionError("expected BadRequestError")


@check("openai upstream: unsupported parameter is BadRequestError naming it")
def _():
    try:
        client.messages.create(model="gpt-4o-mini", max_tokens=8, top_k=5, messages=[{"role": "user", "content": "x"}])
    except anthropic.BadRequestError as error:
        assert "top_k" in error.message, error.message
    else:
        raise AssertionError("expected BadRequestError")


# Fallback chain (routes from scripts/integration/90-sdk-checks.yaml; the sdk-* models are the
# stand-alone fake provider's reserved names, see Tests/FakeProviderServer/main.swift).
ALL_DOWN = "sdk-all-down"  # alias: a 503 model, then a 500 model, then `template: busy`


@check("every model down: template answer")
def _():
    raw = client.messages.with_raw_response.create(
        model=ALL_DOWN, max_tokens=64, messages=[{"role": "user", "content": "are you there?"}]
    )
    message = raw.parse()
    assert raw.headers["x-tollgate-fallback"] == "template", dict(raw.headers)
    expected = busy_template.render("busy", request_id=raw.headers["x-tollgate-request-id"])
    assert message.type == "message" and message.role == "assistant", message
    assert [block.type for block in message.content] == ["text"], message
    assert message.content[0].text == expected, (message.content[0].text, expected)
    assert message.stop_reason == "end_turn", message.stop_reason
    assert float(raw.headers["x-tollgate-cost-usd"]) == 0, raw.headers["x-tollgate-cost-usd"]


@check("every model down: template answer, streamed")
def _():
    raw = client.messages.with_raw_response.create(
        model=ALL_DOWN, max_tokens=64, messages=[{"role": "user", "content": "are you there?"}], stream=True
    )
    assert raw.headers["x-tollgate-fallback"] == "template", dict(raw.headers)
    kinds, text, stop_reason = [], "", None
    for event in raw.parse():
        kinds.append(event.type)
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            text += event.delta.text
        if event.type == "message_delta":
            stop_reason = event.delta.stop_reason
    assert text == busy_template.render("busy", request_id=raw.headers["x-tollgate-request-id"]), text
    assert stop_reason == "end_turn", stop_reason
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop", kinds


# What the fake provider streams for its sdk-*-stream-* models before it fails: the first
# words of this (how many depends on the upstream's format).
BROKEN_STREAM_TEXT = " ".join(f"word{n}" for n in range(9))

for upstream in ("anthropic", "openai"):
    for kind, how in (("error", "an error event"), ("cut", "a connection cut")):

        @check(f"{upstream} upstream: {how} after content raises APIStatusError mid-stream")
        def _(model=f"sdk-{upstream}-stream-{kind}"):
            # anthropic-python raises on `event: error` only (a `data: {"error":...}` without that
            # event name is skipped, and a stream that merely stops ends the loop quietly). The
            # class comes from the HTTP status, which is 200 once a stream has started, so it is
            # the base APIStatusError whatever the error's type (even overloaded_error).
            text = ""
            try:
                with client.messages.stream(
                    model=model, max_tokens=64, messages=[{"role": "user", "content": "start then fail"}]
                ) as stream:
                    for piece in stream.text_stream:
                        text += piece
            except anthropic.APIStatusError as error:
                assert isinstance(error.body, dict) and error.body.get("type") == "error", error.body
                assert error.body["error"].get("type") and error.body["error"].get("message"), error.body
            else:
                raise AssertionError(f"the stream ended without an error after {text!r}")
            assert text.startswith("word0") and BROKEN_STREAM_TEXT.startswith(text), text


passed = sum(1 for _, failure in results if failure is None)
failed = len(results) - passed
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
