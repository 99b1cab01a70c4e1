# Debian's python3-kubernetes driving a hawser cluster as its users do (KUBECONFIG from the
# environment); cli-clients.test.ts runs one subcommand at a time and reads one JSON line.
#   exec NS POD            stream() exec: output, stdin, and the exit code from the error channel
#   portforward NS POD     portforward(): an HTTP request through port 8080
#   watch NS N             a watch (watch=True on the wire) seeing N configmaps added, changed, deleted
import json
import sys
import threading

from kubernetes import client, config, watch
from kubernetes.stream import portforward, stream


def run_exec(core, ns, pod):
    out = stream(core.connect_get_namespaced_pod_exec, pod, ns, command=['sh', '-c', 'echo out; echo err >&2'],
                 stderr=True, stdin=False, stdout=True, tty=False)
    resp = stream(core.connect_get_namespaced_pod_exec, pod, ns, command=['sh', '-c', 'read l; echo "got:$l"; exit 5'],
                  stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
    resp.write_stdin('hello\n')
    got = ''
    while resp.is_open():
        resp.update(timeout=5)
        got += resp.read_stdout() or ''
    return {'preloaded': out, 'stdout': got, 'returncode': resp.returncode}


def run_portforward(core, ns, pod):
    pf = portforward(core.connect_get_namespaced_pod_portforward, pod, ns, ports='8080')
    sock = pf.socket(8080)
    sock.setblocking(True)
    sock.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    data = b''
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.close()
    error = pf.error(8080)
    pf.close()
    return {'response': data.decode('utf-8', 'replace'), 'error': error}


def run_watch(core, ns, n):
    seen = []
    ready = threading.Event()
    w = watch.Watch()

    def consume():
        rv = core.list_namespaced_config_map(ns, label_selector='py-watch=1').metadata.resource_version
        ready.set()
        for ev in w.stream(core.list_namespaced_config_map, ns, label_selector='py-watch=1', resource_version=rv, timeout_seconds=60):
            o = ev['object']
            seen.append('%s %s %s' % (ev['type'], o.metadata.name, (o.data or {}).get('v')))
            if len(seen) >= 3 * n:
                w.stop()

    t = threading.Thread(target=consume)
    t.start()
    ready.wait(30)
    for i in range(n):
        name = 'py-%d' % i
        core.create_namespaced_config_map(ns, {'metadata': {'name': name, 'labels': {'py-watch': '1'}}, 'data': {'v': '0'}})
        core.patch_namespaced_config_map(name, ns, {'data': {'v': '1'}})
        core.delete_namespaced_config_map(name, ns)
    t.join(90)
    return {'seen': seen}


def main():
    config.load_kube_config()
    core = client.CoreV1Api()
    cmd, ns, arg = sys.argv[1], sys.argv[2], sys.argv[3]
    if cmd == 'exec':
        result = run_exec(core, ns, arg)
    elif cmd == 'portforward':
        result = run_portforward(core, ns, arg)
    else:
        result = run_watch(core, ns, int(arg))
    print(json.dumps(result))


main()
