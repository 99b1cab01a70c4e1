// [sig-storage] Projected secret, mirrored from upstream's test/e2e/common/storage/projected_secret.go:
// the Secret volume tests with the Secret as the source of a projected volume.
import { consumeWithMappings, consumeWithoutMappings, multipleVolumes, optionalUpdates, type Shape } from './helpers/object-volume-e2e.ts';
import { NON_ROOT_UID, volumeSuite } from './helpers/volume-e2e.ts';

const it = volumeSuite();
const PSEC: Shape = { kind: 'secret', projected: true };

it('[sig-storage] Projected secret should be consumable from pods in volume [NodeConformance] [Conformance]', (v) => consumeWithoutMappings(v, PSEC));
it('[sig-storage] Projected secret should be consumable from pods in volume with defaultMode set [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  consumeWithoutMappings(v, PSEC, { defaultMode: 0o400 }));
it('[sig-storage] Projected secret should be consumable from pods in volume as non-root with defaultMode and fsGroup set [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  consumeWithoutMappings(v, PSEC, { defaultMode: 0o440, fsGroup: 1001, runAsUser: NON_ROOT_UID }));
it('[sig-storage] Projected secret should be consumable from pods in volume with mappings [NodeConformance] [Conformance]', (v) =>
  consumeWithMappings(v, PSEC));
it('[sig-storage] Projected secret should be consumable from pods in volume with mappings and Item Mode set [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  consumeWithMappings(v, PSEC, { itemMode: 0o400 }));
it('[sig-storage] Projected secret should be consumable in multiple volumes in a pod [NodeConformance] [Conformance]', (v) => multipleVolumes(v, PSEC));
it('[sig-storage] Projected secret optional updates should be reflected in volume [NodeConformance] [Conformance]', (v) => optionalUpdates(v, PSEC));
