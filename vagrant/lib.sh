#!/usr/bin/env bash
# Shared by the hawser Vagrant provisioning scripts (sourced, not run). Everything here is
# idempotent: `vagrant provision` reruns it and only missing pieces are done.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
# the shared-folder directory through which the VMs and the host exchange the join token and the
# admin kubeconfig
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

# The release tarball the host built (`make dist`), from the shared folder: the same artifact the
# machine lab installs (agents/cli/machines/up.ts). The VMs need no Node.js, npm or compiler.
release_tarball() {
  local rel
  rel="$(find /vagrant/dist/release -maxdepth 1 -name 'hawser-*-linux-amd64.tar.gz' 2>/dev/null | sort | tail -1)"
  if [ -z "$rel" ]; then echo "no release tarball in dist/release: run \`make dist\` on the host first" >&2; return 1; fi
  printf '%s\n' "$rel"
}

# Runs the release's own hawser (its Node.js and bundle), unpacked once per boot as a user would
# before installing: the machine lab's bootstrap (bootstrapScript in agents/cli/machines/up.ts).
# Unpacked whole, the directory is itself the release `hawser install` and `join` take (no --from).
hawser_release() {
  local rel dir=/run/hawser-bootstrap
  rel="$(release_tarball)"
  if [ ! -x "$dir/hawser" ]; then
    mkdir -p "$dir"
    tar -xzf "$rel" -C "$dir"
    # shellcheck disable=SC2016 # "$@" is for the wrapper, not expanded here
    printf '#!/bin/sh\nexec %s/hawser-*/bin/node %s/hawser-*/dist/hawser.cjs "$@"\n' "$dir" "$dir" > "$dir/hawser"
    chmod +x "$dir/hawser"
  fi
  "$dir/hawser" "$@"
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
