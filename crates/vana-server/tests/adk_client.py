"""Drives VANA with Google ADK's own AdkWebServerClient (google-adk, pinned in
scripts/setup-adk.sh): version, sessions with state and the state PATCH, /run_sse runs whose
events ADK's Event model validates, artifact version metadata, deletion. The server runs the
`helper` agent on the scripted model: a make_chart call (a PNG artifact), then a text answer.
Usage: python adk_client.py BASE_URL. Prints one JSON line; exits non-zero on any mismatch."""
import asyncio
import json
import sys

import httpx
from google.adk.cli.adk_web_server import RunAgentRequest
from google.adk.cli.conformance.adk_web_server_client import AdkWebServerClient
from google.adk.events.event import Event
from google.genai import types

base = sys.argv[1]


async def main() -> dict:
    out = {}
    async with AdkWebServerClient(base_url=base, timeout=60) as c:
        version = await c.get_version_data()
        assert version["version"] and version["language"], version
        out["version"] = version["version"]

        s = await c.create_session(app_name="helper", user_id="alice", state={"tone": "dry"})
        assert s.app_name == "helper" and s.user_id == "alice" and s.state == {"tone": "dry"}, s
        s2 = await c.update_session(app_name="helper", user_id="alice", session_id=s.id, state_delta={"topic": "sales"})
        assert s2.state == {"tone": "dry", "topic": "sales"}, s2.state

        req = RunAgentRequest(
            app_name="helper", user_id="alice", session_id=s.id, streaming=False,
            new_message=types.Content(role="user", parts=[types.Part(text="draw the sales chart")]),
            state_delta={"quarter": "Q3"},
        )
        events = [e async for e in c.run_agent(req)]
        assert all(isinstance(e, Event) for e in events)
        authors = [e.author for e in events]
        assert "user" not in authors, f"the user's own event is not echoed: {authors}"
        calls = [fc.name for e in events for fc in e.get_function_calls()]
        responses = [fr.name for e in events for fr in e.get_function_responses()]
        assert calls == ["make_chart"] and responses == ["make_chart"], (calls, responses)
        final = [e for e in events if e.is_final_response()]
        assert final and final[-1].content.parts[0].text == "Here is the chart.", final
        out["events"] = len(events)

        got = await c.get_session(app_name="helper", user_id="alice", session_id=s.id)
        assert got.state.get("quarter") == "Q3" and got.state.get("topic") == "sales", got.state
        stored_authors = [e.author for e in got.events]
        assert stored_authors.count("user") >= 2, stored_authors  # the state patch and the message
        texts = [p.text for e in got.events if e.author == "user" and e.content for p in e.content.parts if p.text]
        assert texts == ["draw the sales chart"], texts

        metas = await c.list_artifact_versions_metadata(app_name="helper", user_id="alice", session_id=s.id, artifact_name="chart.png")
        assert [m.version for m in metas] == [0] and metas[0].mime_type == "image/png", metas
        one = await c.get_artifact_version_metadata(app_name="helper", user_id="alice", session_id=s.id, artifact_name="chart.png", version=0)
        assert one.version == 0 and one.canonical_uri, one
        out["artifact"] = one.mime_type

        # A session of another app, and one that does not exist: HTTP errors, no crash.
        try:
            await c.get_session(app_name="helper", user_id="alice", session_id="no-such-session")
            raise SystemExit("a missing session must be 404")
        except httpx.HTTPStatusError as e:
            assert e.response.status_code == 404, e

        await c.delete_session(app_name="helper", user_id="alice", session_id=s.id)
        try:
            await c.get_session(app_name="helper", user_id="alice", session_id=s.id)
            raise SystemExit("a deleted session must be gone")
        except httpx.HTTPStatusError as e:
            assert e.response.status_code == 404, e
    return out


print(json.dumps(asyncio.run(main())))
