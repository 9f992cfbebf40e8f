"""VANA's OpenAI-compatible endpoints with the official `openai` package (PyPI, pinned by
scripts/setup-adk.sh): /v1/models lists the agents, chat completions with and without
streaming (usage on both: stream_options include_usage), and errors in OpenAI's shape that the
client raises as its own exception types. Usage: python openai_compat.py BASE_URL API_KEY."""
import json
import sys

import openai

base, key = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0)
out = {}

models = client.models.list()
ids = [m.id for m in models.data]
assert "helper" in ids and "code_execution" in ids, ids
assert all(m.object == "model" and m.owned_by == "vana" for m in models.data)

done = client.chat.completions.create(model="helper", messages=[{"role": "user", "content": "capital of France?"}])
out["text"] = done.choices[0].message.content
assert done.object == "chat.completion" and done.choices[0].finish_reason == "stop", done
out["usage"] = [done.usage.prompt_tokens, done.usage.completion_tokens, done.usage.total_tokens]

pieces, usage = [], None
for chunk in client.chat.completions.create(
    model="helper", stream=True, stream_options={"include_usage": True},
    messages=[{"role": "user", "content": "count to three"}],
):
    assert chunk.object == "chat.completion.chunk", chunk
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
    if chunk.usage:
        usage = chunk.usage
out["streamed"] = "".join(pieces)
assert usage is not None and usage.total_tokens == 6, usage

try:
    client.chat.completions.create(model="no_such_agent", messages=[{"role": "user", "content": "x"}])
    raise SystemExit("an unknown model must fail")
except openai.NotFoundError as e:
    assert e.body and e.body.get("type") == "invalid_request_error" and "unknown" in e.body.get("message", ""), e.body
    out["unknown_model"] = e.status_code

try:
    openai.OpenAI(base_url=f"{base}/v1", api_key="vana_bad_key", max_retries=0).models.list()
    raise SystemExit("a bad key must fail")
except openai.AuthenticationError as e:
    assert isinstance(e.body, dict) and e.body.get("message"), e.body
    out["bad_key"] = e.status_code

try:
    client.chat.completions.create(model="helper", messages=[{"role": "system", "content": "no user message"}])
    raise SystemExit("a conversation without a user message must fail")
except openai.BadRequestError as e:
    assert e.body.get("type") == "invalid_request_error", e.body
    out["bad_request"] = e.status_code

print(json.dumps(out))
