// [sig-storage] Downward API volume, mirrored from upstream's test/e2e/common/storage/downwardapi_volume.go
// (its "should update labels on modification" lives in node-config.test.ts).
import { allocatableDefault, containerResource, podname, podnameMode, updateOnModification } from './helpers/downward-volume-e2e.ts';
import { volumeSuite } from './helpers/volume-e2e.ts';

const it = volumeSuite();

it('[sig-storage] Downward API volume should provide podname only [NodeConformance] [Conformance]', (v) => podname(v, false));
it('[sig-storage] Downward API volume should set DefaultMode on files [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  podnameMode(v, false, { defaultMode: 0o400 }));
it('[sig-storage] Downward API volume should set mode on item file [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  podnameMode(v, false, { itemMode: 0o400 }));
it('[sig-storage] Downward API volume should update annotations on modification [NodeConformance] [Conformance]', (v) =>
  updateOnModification(v, false, 'annotations'));
it("[sig-storage] Downward API volume should provide container's cpu limit [NodeConformance] [Conformance]", (v) =>
  containerResource(v, false, 'cpu_limit', '2'));
it("[sig-storage] Downward API volume should provide container's memory limit [NodeConformance] [Conformance]", (v) =>
  containerResource(v, false, 'memory_limit', '67108864'));
it("[sig-storage] Downward API volume should provide container's cpu request [NodeConformance] [Conformance]", (v) =>
  containerResource(v, false, 'cpu_request', '1'));
it("[sig-storage] Downward API volume should provide container's memory request [NodeConformance] [Conformance]", (v) =>
  containerResource(v, false, 'memory_request', '33554432'));
it('[sig-storage] Downward API volume should provide node allocatable (cpu) as default cpu limit if the limit is not set [NodeConformance] [Conformance]', (v) =>
  allocatableDefault(v, false, 'cpu_limit'));
it('[sig-storage] Downward API volume should provide node allocatable (memory) as default memory limit if the limit is not set [NodeConformance] [Conformance]', (v) =>
  allocatableDefault(v, false, 'memory_limit'));
