// [sig-storage] Secrets volumes, mirrored from upstream's test/e2e/common/storage/secrets_volume.go
// (its "mappings and Item Mode set" and "immutable" tests live in node-config.test.ts).
import { consumeWithMappings, consumeWithoutMappings, multipleVolumes, optionalUpdates, otherNamespace, type Shape } from './helpers/object-volume-e2e.ts';
import { NON_ROOT_UID, volumeSuite } from './helpers/volume-e2e.ts';

const it = volumeSuite();
const SEC: Shape = { kind: 'secret', projected: false };

it('[sig-storage] Secrets should be consumable from pods in volume [NodeConformance] [Conformance]', (v) => consumeWithoutMappings(v, SEC));
it('[sig-storage] Secrets should be consumable from pods in volume with defaultMode set [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  consumeWithoutMappings(v, SEC, { defaultMode: 0o400 }));
it('[sig-storage] Secrets should be consumable from pods in volume as non-root with defaultMode and fsGroup set [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  consumeWithoutMappings(v, SEC, { defaultMode: 0o440, fsGroup: 1001, runAsUser: NON_ROOT_UID }));
it('[sig-storage] Secrets should be consumable from pods in volume with mappings [NodeConformance] [Conformance]', (v) => consumeWithMappings(v, SEC));
it('[sig-storage] Secrets should be consumable in multiple volumes in a pod [NodeConformance] [Conformance]', (v) => multipleVolumes(v, SEC));
it('[sig-storage] Secrets optional updates should be reflected in volume [NodeConformance] [Conformance]', (v) => optionalUpdates(v, SEC));

it('[sig-storage] Secrets should be able to mount in a volume regardless of a different secret existing with same name in different namespace [NodeConformance] [Conformance]', async (v) => {
  // a secret of the same name elsewhere, with other data: the pod must see its own namespace's
  const ns2 = await otherNamespace(v, 'secret-namespace');
  await v.c.ok([
    '-n',
    ns2,
    'create',
    'secret',
    'generic',
    'secret-test-same',
    '--from-literal=this_should_not_match_content_of_other_secret=similarly_this_should_not_match_content_of_other_secret',
  ]);
  await consumeWithoutMappings(v, SEC, { objectName: 'secret-test-same' });
});
