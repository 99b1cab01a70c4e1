// Reading a kubeconfig (api/kubeconfig.ts): the current context, inline and base64 data.
import test from 'ava';
import { parseKubeconfig } from '../../agents/api/kubeconfig.ts';

test('kubeconfig: current context, inline data, base64 decoded', (t) => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const auth = parseKubeconfig(`apiVersion: v1
kind: Config
current-context: b
clusters:
- name: c1
  cluster: {server: "https://1.1.1.1:6443/", certificate-authority-data: ${b64('CA')}}
contexts:
- name: a
  context: {cluster: nope, user: nope}
- name: b
  context: {cluster: c1, user: u1}
users:
- name: u1
  user: {client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')}}
`);
  t.is(auth.server, 'https://1.1.1.1:6443');
  t.is(auth.ca!.toString(), 'CA');
  t.is(auth.cert!.toString(), 'CERT');
  t.is(auth.key!.toString(), 'KEY');
  t.throws(() => parseKubeconfig('current-context: x\ncontexts: []\n'), { message: /context "x" not found/ });
});
