#!/usr/bin/env bash
# Provisions the control plane VM: hawser's control plane as a systemd unit through
# `hawser install --role server`, a local image registry with the project's images, a join token
# and the admin kubeconfig in the shared folder for the workers and the host.
# Environment (from the Vagrantfile): HAWSER_IP.
set -euo pipefail
# Vagrant uploads this script alone and runs it from /tmp: the library comes from the shared folder.
# shellcheck source=vagrant/lib.sh
. /vagrant/vagrant/lib.sh

: "${HAWSER_IP:?HAWSER_IP is not set}"

log "hawser install --role server (from $(release_tarball))"
hawser_release install --role server --node-ip "$HAWSER_IP" --tls-san "$(hostname)"

log "waiting for the API server"
for _ in $(seq 1 60); do
  [ -s /var/lib/hawser/server/admin.kubeconfig ] && curl -fsSk "https://$HAWSER_IP:6443/readyz" >/dev/null && break
  sleep 2
done
curl -fsSk "https://$HAWSER_IP:6443/readyz" >/dev/null

# Images come from this VM's registry (Debian's docker-registry on :5000): the pause and test app
# images the host built from Debian packages (`make deps`: .build/images), as the machine lab pushes them.
log "image registry with hawser's images"
apt_install docker-registry skopeo
systemctl enable --now docker-registry
for img in pause:3.10 testapp:1.0; do
  src="/vagrant/.build/images/${img%%:*}"
  [ -f "$src/index.json" ] || { echo "$src is missing: run \`make deps\` on the host first" >&2; exit 1; }
  skopeo copy --quiet --dest-tls-verify=false "oci:$src" "docker://127.0.0.1:5000/$img"
done

log "join token and admin kubeconfig for the workers and the host"
mkdir -p "$SHARE"
if [ ! -s "$SHARE/join-token" ]; then
  hawser token create --ttl 24h --description vagrant > "$SHARE/join-token.tmp"
  mv "$SHARE/join-token.tmp" "$SHARE/join-token"
fi
install -m 0600 /var/lib/hawser/server/admin.kubeconfig "$SHARE/admin.kubeconfig"
echo "control plane ready on https://$HAWSER_IP:6443"
