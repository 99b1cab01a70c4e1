#!/usr/bin/env bash
# Provisions the control plane VM: hawser's control plane as a systemd unit through
# `hawser install --role server`, a local image registry with the project's images, a join token
# and the admin kubeconfig in the shared folder for the workers and the host.
# Environment (from the Vagrantfile): HAWSER_IP, HAWSER_NODE_VERSION.
set -euo pipefail
# Vagrant uploads this script alone and runs it from /tmp: the library comes from the shared folder.
# shellcheck source=vagrant/lib.sh
. /vagrant/vagrant/lib.sh

: "${HAWSER_IP:?HAWSER_IP is not set}"

ensure_node
build_hawser

log "hawser install --role server"
node "$SRC/dist/hawser.cjs" install --role server --from "$SRC" --node-ip "$HAWSER_IP" --tls-san "$(hostname)"

log "waiting for the API server"
for _ in $(seq 1 60); do
  [ -s /var/lib/hawser/server/admin.kubeconfig ] && curl -fsSk "https://$HAWSER_IP:6443/readyz" >/dev/null && break
  sleep 2
done
curl -fsSk "https://$HAWSER_IP:6443/readyz" >/dev/null

# Images come from this VM's registry (Debian's docker-registry on :5000): the pause and test app
# images are built from Debian packages by the project itself, as in the netns lab.
log "image registry with hawser's images"
apt_install docker-registry skopeo gcc libc6-dev busybox-static
systemctl enable --now docker-registry
(cd "$SRC" && node --import=tsx images/build.ts .build/images)
for img in pause:3.10 testapp:1.0; do
  skopeo copy --quiet --dest-tls-verify=false "oci:$SRC/.build/images/${img%%:*}" "docker://127.0.0.1:5000/$img"
done

log "join token and admin kubeconfig for the workers and the host"
mkdir -p "$SHARE"
if [ ! -s "$SHARE/join-token" ]; then
  hawser token create --ttl 24h --description vagrant > "$SHARE/join-token.tmp"
  mv "$SHARE/join-token.tmp" "$SHARE/join-token"
fi
install -m 0600 /var/lib/hawser/server/admin.kubeconfig "$SHARE/admin.kubeconfig"
echo "control plane ready on https://$HAWSER_IP:6443"
