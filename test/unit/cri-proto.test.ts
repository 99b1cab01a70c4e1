// The embedded CRI schema: in sync with api.proto, wire-compatible with upstream field numbers, and
// the CriClient against an in-process gRPC server on a unix socket (deadlines, error codes, shapes).
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CRI_PROTO } from '../../agents/kubelet/cri/api-proto.ts';
import { renderProtoModule } from '../../agents/kubelet/cri/gen-proto-text.ts';
import { generateTypes, TYPES_FILE } from '../../agents/kubelet/cri/gen-types.ts';
import { loadCriServices } from '../../agents/kubelet/cri/proto.ts';
import { CriClient, CriError, isNotFound } from '../../agents/kubelet/cri/client.ts';

const protoPath = new URL('../../agents/kubelet/cri/api.proto', import.meta.url);
const modulePath = new URL('../../agents/kubelet/cri/api-proto.ts', import.meta.url);

test('embedded proto text is the generated copy of api.proto', (t) => {
  const text = readFileSync(protoPath, 'utf8');
  t.is(CRI_PROTO, text);
  t.is(readFileSync(modulePath, 'utf8'), renderProtoModule(text));
});

test('api-types.ts is what proto-loader-gen-types makes of api.proto (regenerate: gen-types.ts)', (t) => {
  t.is(readFileSync(TYPES_FILE, 'utf8'), generateTypes());
});

const runtimeRpcs = [
  'Version',
  'RunPodSandbox',
  'StopPodSandbox',
  'RemovePodSandbox',
  'PodSandboxStatus',
  'ListPodSandbox',
  'CreateContainer',
  'StartContainer',
  'StopContainer',
  'RemoveContainer',
  'ListContainers',
  'ContainerStatus',
  'UpdateContainerResources',
  'ReopenContainerLog',
  'ExecSync',
  'Exec',
  'Attach',
  'PortForward',
  'ContainerStats',
  'ListContainerStats',
  'UpdateRuntimeConfig',
  'Status',
];
const imageRpcs = ['ListImages', 'ImageStatus', 'PullImage', 'RemoveImage', 'ImageFsInfo'];

test('services carry the upstream method paths', (t) => {
  const { RuntimeService, ImageService } = loadCriServices();
  for (const rpc of runtimeRpcs) t.is(RuntimeService.service[rpc]?.path, `/runtime.v1.RuntimeService/${rpc}`, rpc);
  for (const rpc of imageRpcs) t.is(ImageService.service[rpc]?.path, `/runtime.v1.ImageService/${rpc}`, rpc);
});

type FieldDesc = { name: string; number: number };
function fieldNumbers(message: string): Record<string, number> {
  const def = loadCriServices().definition[`runtime.v1.${message}`] as unknown as { type: { field: FieldDesc[] } };
  return Object.fromEntries(def.type.field.map((f) => [f.name, f.number]));
}

// Spot checks of numbers that are out of order upstream, where a hand-written subset goes wrong.
test('field numbers match upstream CRI v1', (t) => {
  t.like(fieldNumbers('LinuxSandboxSecurityContext'), { namespaceOptions: 1, runAsUser: 3, runAsGroup: 8, supplementalGroupsPolicy: 11, seccomp: 9 });
  t.like(fieldNumbers('LinuxContainerSecurityContext'), { runAsGroup: 12, runAsUsername: 6, noNewPrivs: 11, supplementalGroupsPolicy: 17 });
  t.like(fieldNumbers('ContainerConfig'), { linux: 15, CDIDevices: 17, logPath: 11, tty: 14 });
  t.like(fieldNumbers('ImageSpec'), { image: 1, annotations: 2, userSpecifiedImage: 18, runtimeHandler: 19 });
  t.like(fieldNumbers('Namespace'), { options: 2 });
  t.like(fieldNumbers('PodSandboxConfig'), { linux: 8, portMappings: 5, dnsConfig: 4 });
  t.like(fieldNumbers('LinuxPodSandboxConfig'), { cgroupParent: 1, securityContext: 2, sysctls: 3 });
  t.like(fieldNumbers('ContainerStatus'), { exitCode: 7, imageId: 17, user: 18, imageSource: 19 });
  t.like(fieldNumbers('Mount'), { uidMappings: 6, gidMappings: 7, recursiveReadOnly: 8, image: 9 });
  t.like(fieldNumbers('UpdateContainerResourcesRequest'), { linux: 2, annotations: 4 });
});

test('messages encode to the expected wire bytes and decode with names and defaults', (t) => {
  const { RuntimeService } = loadCriServices();
  const stop = RuntimeService.service.StopContainer!;
  // field 1 (string "ab"), field 2 (varint 30)
  t.deepEqual([...stop.requestSerialize({ containerId: 'ab', timeout: 30 })], [0x0a, 0x02, 0x61, 0x62, 0x10, 30]);

  const run = RuntimeService.service.RunPodSandbox!;
  const bytes = run.requestSerialize({
    config: {
      metadata: { name: 'p', uid: 'u', namespace: 'default', attempt: 1 },
      portMappings: [{ protocol: 'UDP', containerPort: 53, hostPort: 5353 }],
      linux: { cgroupParent: '/hawser/pod-u', securityContext: { namespaceOptions: { network: 'NODE', pid: 2 } } },
    },
  });
  // the generated service definitions type both directions (api-types.ts)
  const back = run.requestDeserialize(bytes);
  t.is(back.config?.portMappings[0]?.protocol, 'UDP');
  t.like(back.config?.linux?.securityContext?.namespaceOptions, { network: 'NODE', pid: 'NODE', ipc: 'POD' });
  t.is(back.config?.hostname, '');
  t.is(back.runtimeHandler, '');

  const status = RuntimeService.service.ContainerStatus!;
  const res = status.responseDeserialize(
    status.responseSerialize({ status: { id: 'c', state: 'CONTAINER_EXITED', exitCode: 137, finishedAt: 1_700_000_000_123_456_789 } }),
  );
  t.is(res.status?.state, 'CONTAINER_EXITED');
  t.is(res.status?.exitCode, 137);
  t.is(typeof res.status?.finishedAt, 'number');
  t.true(Math.abs(res.status!.finishedAt - 1_700_000_000_123_456_789) < 1000);
  t.deepEqual(res.status?.labels, {});
  t.is(res.status?.image, null);
  t.deepEqual(res.info, {});
});

// ---- the client against a fake runtime on a unix socket ----
async function fakeRuntime(t: import('ava').ExecutionContext, impl: grpc.UntypedServiceImplementation, timeoutMs = 10_000) {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-cri-unit-'));
  const socket = join(dir, 'cri.sock');
  const server = new grpc.Server();
  const { RuntimeService, ImageService } = loadCriServices();
  server.addService(RuntimeService.service, impl);
  server.addService(ImageService.service, impl);
  await new Promise<void>((ok, fail) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? fail(e) : ok())));
  // generous by default: under CI load the first connect alone can take a few hundred ms
  const client = new CriClient(socket, { timeoutMs });
  t.teardown(() => {
    client.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });
  return client;
}

type Cb = (err: grpc.ServiceError | null, res?: unknown) => void;
type Call = { request: Record<string, unknown> };

test('client calls, typed results and error codes', async (t) => {
  const seen: Record<string, unknown>[] = [];
  const client = await fakeRuntime(t, {
    Version: (call: Call, cb: Cb) => {
      seen.push(call.request);
      cb(null, { version: '0.1.0', runtimeName: 'fake', runtimeApiVersion: 'v1' });
    },
    ImageStatus: (_call: Call, cb: Cb) => cb(null, {}),
    ExecSync: (call: Call, cb: Cb) => {
      seen.push(call.request);
      cb(null, { stdout: Buffer.from('hi\n'), exitCode: 3 });
    },
    ListPodSandbox: (call: Call, cb: Cb) => {
      seen.push(call.request);
      cb(null, { items: [{ id: 's1', state: 'SANDBOX_NOTREADY', createdAt: 5 }] });
    },
    ContainerStatus: (_call: Call, cb: Cb) => cb({ code: grpc.status.NOT_FOUND, details: 'container "x" not found' } as grpc.ServiceError),
  });
  const v = await client.version();
  t.is(v.runtimeName, 'fake');
  t.is(v.runtimeVersion, '');
  t.is(seen[0]!.version, 'v1');

  t.is((await client.imageStatus('nope:1')).image, null);

  const ex = await client.execSync('c1', ['sh', '-c', 'echo hi'], 2);
  t.is(ex.stdout.toString(), 'hi\n');
  t.is(ex.stderr.length, 0);
  t.is(ex.exitCode, 3);
  t.like(seen[1], { containerId: 'c1', cmd: ['sh', '-c', 'echo hi'], timeout: 2 });

  const items = await client.listPodSandbox({ labelSelector: { app: 'x' } });
  t.like(items[0], { id: 's1', state: 'SANDBOX_NOTREADY', createdAt: 5, labels: {} });
  t.deepEqual((seen[2]!.filter as { labelSelector: object }).labelSelector, { app: 'x' });

  const err = await t.throwsAsync(client.containerStatus('x'), { instanceOf: CriError });
  t.is(err!.code, grpc.status.NOT_FOUND);
  t.is(err!.rpc, 'ContainerStatus');
  t.regex(err!.message, /NOT_FOUND \(5\): container "x" not found/);
  t.true(isNotFound(err));

  // not implemented by the fake: grpc-js answers UNIMPLEMENTED
  const un = await t.throwsAsync(client.status(), { instanceOf: CriError });
  t.is(un!.code, grpc.status.UNIMPLEMENTED);
});

test('every call has a deadline', async (t) => {
  const client = await fakeRuntime(
    t,
    {
      Version: () => {
        /* never answers */
      },
    },
    300,
  );
  const started = Date.now();
  const err = await t.throwsAsync(client.version(), { instanceOf: CriError });
  t.is(err!.code, grpc.status.DEADLINE_EXCEEDED);
  t.true(Date.now() - started < 3000);
});

test('a missing socket fails fast with UNAVAILABLE', async (t) => {
  const client = new CriClient(join(tmpdir(), `hawser-no-such-${process.pid}.sock`), { timeoutMs: 2000 });
  t.teardown(() => client.close());
  const err = await t.throwsAsync(client.version(), { instanceOf: CriError });
  t.is(err!.code, grpc.status.UNAVAILABLE);
});
