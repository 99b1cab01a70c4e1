#!/usr/bin/env bash
# Provisions a worker VM through the same path a user takes: `hawser install --role agent`, then
# `hawser join` with the token the server left in the shared folder (the token pins the server's
# CA). Images are pulled from the server's registry under the name registry.hawser.local.
# Environment (from the Vagrantfile): HAWSER_IP, HAWSER_SERVER_IP, HAWSER_NODE_NAME, HAWSER_BACKEND.
set -euo pipefail
# Vagrant uploads this script alone and runs it from /tmp: the library comes from the shared folder.
# shellcheck source=vagrant/lib.sh
. /vagrant/vagrant/lib.sh

: "${HAWSER_IP:?HAWSER_IP is not set}"
: "${HAWSER_SERVER_IP:?HAWSER_SERVER_IP is not set}"
: "${HAWSER_NODE_NAME:?HAWSER_NODE_NAME is not set}"
backend="${HAWSER_BACKEND:-host-gw}"

# --node-ip: Vagrant VMs also have a NAT interface (10.0.2.15 on every VM) that no other node
# reaches; the private network address is the node's InternalIP.
agent_flags=(
  --node-ip "$HAWSER_IP"
  --backend "$backend"
  --sandbox-image registry.hawser.local/pause:3.10
  --registry-mirror "registry.hawser.local=http://$HAWSER_SERVER_IP:5000"
)

log "hawser install --role agent"
hawser_release install --role agent --node-name "$HAWSER_NODE_NAME" "${agent_flags[@]}"

log "waiting for the server's join token"
wait_for_file "$SHARE/join-token" 1800

log "hawser join"
hawser_release join --server "https://$HAWSER_SERVER_IP:6443" --token "$(cat "$SHARE/join-token")" \
  --node-name "$HAWSER_NODE_NAME" --wait 300 "${agent_flags[@]}"
echo "$HAWSER_NODE_NAME joined"
