"""Writes an ADK eval set with ADK's own tooling (google-adk's EvalSet models and its
LocalEvalSetsManager file format). Usage: python adk_write_evalset.py OUT_DIR APP.
Prints the path of the .evalset.json it wrote."""
import sys

from google.adk.evaluation.eval_case import EvalCase, IntermediateData, Invocation, SessionInput
from google.adk.evaluation.local_eval_sets_manager import LocalEvalSetsManager
from google.genai import types

out_dir, app = sys.argv[1], sys.argv[2]
manager = LocalEvalSetsManager(agents_dir=out_dir)
manager.create_eval_set(app_name=app, eval_set_id="adk_written")


def inv(i, question, answer, tools):
    return Invocation(
        invocation_id=f"inv-{i}",
        user_content=types.Content(role="user", parts=[types.Part(text=question)]),
        final_response=types.Content(role="model", parts=[types.Part(text=answer)]),
        intermediate_data=IntermediateData(
            tool_uses=[types.FunctionCall(name=n, args=a) for n, a in tools],
        ),
    )


manager.add_eval_case(app_name=app, eval_set_id="adk_written", eval_case=EvalCase(
    eval_id="faithful",
    conversation=[inv(0, "What is six times seven?", "Six times seven is 42.", [("make_chart", {"title": "x"})])],
    session_input=SessionInput(app_name=app, user_id="eval_user", state={}),
))
manager.add_eval_case(app_name=app, eval_set_id="adk_written", eval_case=EvalCase(
    eval_id="drifting",
    conversation=[inv(0, "And eight times eight?", "Eight times eight is 64.", [])],
    session_input=SessionInput(app_name=app, user_id="eval_user", state={}),
))
import glob
print(glob.glob(f"{out_dir}/{app}/*.evalset.json")[0])
