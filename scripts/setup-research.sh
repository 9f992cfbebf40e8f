#!/usr/bin/env bash
# Installs what the research tools and their tests need, from Debian: poppler-utils (`pdftotext`,
# PDF pages in fetch_url) and python3-doc (real documentation HTML, written by nobody here, that
# the fetch and search tests serve on 127.0.0.1). Idempotent and quiet; fast when present.
set -euo pipefail

need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
[ -f /usr/share/doc/python3-doc/html/library/json.html ] || need+=(python3-doc)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
