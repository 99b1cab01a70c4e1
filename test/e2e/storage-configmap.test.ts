// [sig-storage] ConfigMap volumes, mirrored from upstream's test/e2e/common/storage/configmap_volume.go
// (its "updates should be reflected" and "immutable" tests live in node-config.test.ts).
import { optionalUpdates, consumeWithMappings, consumeWithoutMappings, multipleVolumes, type Shape } from './helpers/object-volume-e2e.ts';
import { logEventually, mounttest, objOf, podOf, volumeSuite } from './helpers/volume-e2e.ts';

const it = volumeSuite();
const CM: Shape = { kind: 'configMap', projected: false };

it('[sig-storage] ConfigMap should be consumable from pods in volume [NodeConformance] [Conformance]', (v) => consumeWithoutMappings(v, CM));
it('[sig-storage] ConfigMap should be consumable from pods in volume with defaultMode set [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  consumeWithoutMappings(v, CM, { defaultMode: 0o400 }));
it('[sig-storage] ConfigMap should be consumable from pods in volume as non-root [NodeConformance] [Conformance]', (v) =>
  consumeWithoutMappings(v, CM, { asUser: true }));
it('[sig-storage] ConfigMap should be consumable from pods in volume with mappings [NodeConformance] [Conformance]', (v) => consumeWithMappings(v, CM));
it('[sig-storage] ConfigMap should be consumable from pods in volume with mappings and Item mode set [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  consumeWithMappings(v, CM, { itemMode: 0o400 }));
it('[sig-storage] ConfigMap should be consumable from pods in volume with mappings as non-root [NodeConformance] [Conformance]', (v) =>
  consumeWithMappings(v, CM, { asUser: true }));
it('[sig-storage] ConfigMap should be consumable in multiple volumes in the same pod [NodeConformance] [Conformance]', (v) => multipleVolumes(v, CM));
it('[sig-storage] ConfigMap optional updates should be reflected in volume [NodeConformance] [Conformance]', (v) => optionalUpdates(v, CM));

it('[sig-storage] ConfigMap binary data should be reflected in volume [NodeConformance] [Conformance]', async (v) => {
  await v.c.apply(
    objOf('ConfigMap', 'configmap-test-bin', {
      data: { 'data-1': 'value-1' },
      binaryData: { 'dump.bin': Buffer.from([0xde, 0xca, 0xfe, 0xba, 0xd0, 0xfe, 0xff]).toString('base64') },
    }),
  );
  const mount = { name: 'configmap-volume', mountPath: '/etc/configmap-volume', readOnly: true };
  await v.c.apply(
    podOf('pod-configmaps-bin', {
      volumes: [{ name: 'configmap-volume', configMap: { name: 'configmap-test-bin' } }],
      containers: [
        { name: 'configmap-volume-test', image: v.lab.testapp, ...mounttest({ loop: ['/etc/configmap-volume/data-1', 180] }), volumeMounts: [mount] },
        { name: 'configmap-volume-binary-test', image: v.lab.testapp, command: ['hexdump', '-C', '/etc/configmap-volume/dump.bin'], volumeMounts: [mount] },
      ],
    }),
  );
  await logEventually(v, 'pod-configmaps-bin', 'configmap-volume-test', 'value-1');
  await logEventually(v, 'pod-configmaps-bin', 'configmap-volume-binary-test', 'de ca fe ba d0 fe ff');
});
