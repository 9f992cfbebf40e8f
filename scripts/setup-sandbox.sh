#!/usr/bin/env bash
# Installs what the vana-sandbox tests and executors need: Debian's python3 at
# /usr/bin/python3 (with Debian's pandas and numpy), node at /usr/bin/node, /bin/sh, bash and unshare (util-linux).
# Idempotent and quiet; does nothing when everything is present.
set -euo pipefail

missing=()
[ -x /usr/bin/python3 ] || missing+=(python3)
[ -x /usr/bin/node ] || missing+=(nodejs)
[ -x /bin/bash ] || missing+=(bash)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
command -v find >/dev/null 2>&1 || missing+=(findutils)
# Sandboxed Python sees the host's /usr: Debian's pandas and numpy make data code work there.
/usr/bin/python3 -c "import pandas, numpy" >/dev/null 2>&1 || missing+=(python3-pandas python3-numpy)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-sandbox: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The sandbox needs user namespaces and the cgroup memory/pids controllers;
# report (do not change) the host settings so a CI failure is easy to read.
if [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 1)" = "0" ]; then
  echo "setup-sandbox: warning: user.max_user_namespaces = 0; vana-sandbox will refuse to run" >&2
fi
