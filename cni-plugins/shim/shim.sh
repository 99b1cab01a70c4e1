#!/bin/sh
# hawser-cni-shim: the exec'd CNI plugin when a hawser CNI daemon runs in this network namespace.
# Installed under each plugin's name (bridge, host-local, loopback, portmap). It only creates a FIFO
# named <pid>.<plugin> in the daemon's spool dir; the daemon reads this process's environment and
# stdin through /proc (fds 7-9 below), writes the result to our stdout, and sends the exit code
# through the FIFO.
# With no daemon (or if it declines), it runs the one-shot Node.js plugin <realpath>.cjs instead.
# Builtins only on the fast path, plus one mkfifo. See cni-plugins/README.md.
name=${0##*/}
for d in "${HAWSER_CNI_RUN_DIR:-/run/hawser/cni}"/*/; do
  [ /proc/self/ns/net -ef "${d}netns" ] || continue
  f="${d}q/$$.$name"
  # the daemon uses fds 7, 8, 9 (copies of our stdin, stdout, stderr): `read <fifo` swaps fd 0
  exec 7<&0 8>&1 9>&2
  mkfifo -m 600 "$f" 2>/dev/null || break
  code=
  read -r code < "$f"
  case $code in
    0 | 1) exit "$code" ;;
    F) break ;;
  esac
  printf '{"cniVersion":"1.0.0","code":11,"msg":"hawser CNI daemon stopped while handling the request"}'
  exit 1
done
self=$(readlink -f "$0") || exit 1
exec node "$self.cjs"
