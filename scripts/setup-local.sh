#!/usr/bin/env bash
# Prepares a machine to build crates/vana-local: the system packages llama-cpp-sys-2 needs to
# build llama.cpp (cmake, a C/C++ compiler, clang and libclang-dev for bindgen). Idempotent:
# installs only what is missing and says what it did. The model files themselves are provisioned
# by VANA on first use (crates/vana-assets: pinned PyPI packages, sha256-checked).
set -euo pipefail

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v clang >/dev/null 2>&1 || missing+=(clang)
command -v c++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
# bindgen loads libclang.so at build time; libclang-dev provides the unversioned link.
if ! ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1 && ! ls /usr/lib/*/libclang.so >/dev/null 2>&1; then
  missing+=(libclang-dev)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-local: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup-local: installed ${missing[*]}"
else
  echo "setup-local: cmake, clang, libclang-dev and a C++ compiler already present"
fi
