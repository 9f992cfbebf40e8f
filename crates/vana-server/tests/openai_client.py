"""Drives VANA's /v1/chat/completions with the official `openai` package and /run_sse with
httpx-sse. Usage: python openai_client.py BASE_URL API_KEY. Prints one JSON line of results;
exits non-zero on any mismatch."""
import json
import sys

import httpx
import openai
from httpx_sse import connect_sse

base, key = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=f"{base}/v1", api_key=key)

models = [m.id for m in client.models.list().data]
assert "helper" in models, models

done = client.chat.completions.create(
    model="helper", messages=[{"role": "user", "content": "capital of France?"}]
)
text = done.choices[0].message.content
assert text == "Paris.", text
assert done.usage.total_tokens == 12, done.usage

pieces = []
finish = None
for chunk in client.chat.completions.create(
    model="helper", stream=True, messages=[{"role": "user", "content": "count to three"}]
):
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
    if chunk.choices and chunk.choices[0].finish_reason:
        finish = chunk.choices[0].finish_reason
assert "".join(pieces) == "one two three", pieces
assert len(pieces) >= 2, pieces
assert finish == "stop", finish

try:
    client.chat.completions.create(model="no_such_agent", messages=[{"role": "user", "content": "x"}])
    raise SystemExit("unknown model must fail")
except openai.NotFoundError as e:
    assert "unknown app" in str(e), e

# /run_sse through a real SSE client.
h = {"Authorization": f"Bearer {key}"}
with httpx.Client(base_url=base, headers=h) as http:
    session = http.post("/apps/helper/users/alice/sessions", json={}).json()["id"]
    body = {"appName": "helper", "userId": "alice", "sessionId": session, "streaming": True,
            "newMessage": {"role": "user", "parts": [{"text": "stream it"}]}}
    events = []
    with connect_sse(http, "POST", "/run_sse", json=body) as source:
        for sse in source.iter_sse():
            events.append(json.loads(sse.data))
    partial = [e for e in events if e.get("partial")]
    assert len(partial) >= 2, events
    assert events[-1]["content"]["parts"][0]["text"] == "alpha beta gamma delta", events[-1]

print(json.dumps({"models": len(models), "text": text, "streamed_chunks": len(pieces), "sse_events": len(events)}))
