// [sig-storage] Projected configMap, mirrored from upstream's test/e2e/common/storage/projected_configmap.go:
// the ConfigMap volume tests with the ConfigMap as the source of a projected volume.
import { consumeWithMappings, consumeWithoutMappings, multipleVolumes, optionalUpdates, updates, type Shape } from './helpers/object-volume-e2e.ts';
import { volumeSuite } from './helpers/volume-e2e.ts';

const it = volumeSuite();
const PCM: Shape = { kind: 'configMap', projected: true };

it('[sig-storage] Projected configMap should be consumable from pods in volume [NodeConformance] [Conformance]', (v) => consumeWithoutMappings(v, PCM));
it('[sig-storage] Projected configMap should be consumable from pods in volume with defaultMode set [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  consumeWithoutMappings(v, PCM, { defaultMode: 0o400 }));
it('[sig-storage] Projected configMap should be consumable from pods in volume as non-root [NodeConformance] [Conformance]', (v) =>
  consumeWithoutMappings(v, PCM, { asUser: true }));
it('[sig-storage] Projected configMap should be consumable from pods in volume with mappings [NodeConformance] [Conformance]', (v) =>
  consumeWithMappings(v, PCM));
it('[sig-storage] Projected configMap should be consumable from pods in volume with mappings and Item mode set [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  consumeWithMappings(v, PCM, { itemMode: 0o400 }));
it('[sig-storage] Projected configMap should be consumable from pods in volume with mappings as non-root [NodeConformance] [Conformance]', (v) =>
  consumeWithMappings(v, PCM, { asUser: true }));
it('[sig-storage] Projected configMap should be consumable in multiple volumes in the same pod [NodeConformance] [Conformance]', (v) =>
  multipleVolumes(v, PCM));
it('[sig-storage] Projected configMap updates should be reflected in volume [NodeConformance] [Conformance]', (v) => updates(v, PCM));
it('[sig-storage] Projected configMap optional updates should be reflected in volume [NodeConformance] [Conformance]', (v) => optionalUpdates(v, PCM));
