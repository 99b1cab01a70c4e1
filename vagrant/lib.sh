#!/usr/bin/env bash
# Shared by the hawser Vagrant provisioning scripts (sourced, not run). Everything here is
# idempotent: `vagrant provision` reruns it and only missing pieces are done.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
# where the VM builds hawser, and the shared-folder directory through which the VMs and the host
# exchange the join token and the admin kubeconfig
export SRC=/opt/hawser-src
export SHARE=/vagrant/.vagrant/hawser

log() { printf '\n==> %s\n' "$*"; }

apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Node.js >= 20 (Debian 12 ships 18): the official build, checked against its published SHA-256.
ensure_node() {
  local want="${HAWSER_NODE_VERSION:-20.20.2}" have=""
  have="$(node --version 2>/dev/null || true)"
  if [ -n "$have" ] && [ "${have#v}" = "$want" ]; then return; fi
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "unsupported CPU $(uname -m)" >&2; exit 1 ;;
  esac
  local name="node-v${want}-linux-${arch}"
  local base="https://nodejs.org/dist/v${want}"
  log "installing Node.js v${want}"
  apt_install ca-certificates curl xz-utils
  local tmp
  tmp="$(mktemp -d)"
  curl -fsSLo "$tmp/$name.tar.xz" "$base/$name.tar.xz"
  curl -fsSLo "$tmp/SHASUMS256.txt" "$base/SHASUMS256.txt"
  (cd "$tmp" && grep " $name.tar.xz\$" SHASUMS256.txt | sha256sum -c -)
  rm -rf "/usr/local/lib/nodejs/$name"
  mkdir -p /usr/local/lib/nodejs
  tar -xJf "$tmp/$name.tar.xz" -C /usr/local/lib/nodejs
  for b in node npm npx; do ln -sf "/usr/local/lib/nodejs/$name/bin/$b" "/usr/local/bin/$b"; done
  rm -rf "$tmp"
}

# The project's own build, made on the VM from a copy of the shared folder (node_modules holds a
# native SQLite binding that must match this VM's Node and libc, whatever the host is).
build_hawser() {
  apt_install rsync make g++ python3 ca-certificates
  log "building hawser in $SRC"
  mkdir -p "$SRC"
  rsync -a --delete --exclude node_modules --exclude dist --exclude .build --exclude .vagrant --exclude .git /vagrant/ "$SRC/"
  (cd "$SRC" && npm ci --no-audit --no-fund --loglevel=error && node build.mjs)
}

# Waits (bounded) for a file another VM writes into the shared folder.
wait_for_file() {
  local file="$1" seconds="$2" waited=0
  until [ -s "$file" ]; do
    if [ "$waited" -ge "$seconds" ]; then echo "timed out after ${seconds}s waiting for $file" >&2; return 1; fi
    sleep 5
    waited=$((waited + 5))
  done
}
