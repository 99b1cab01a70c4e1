// [sig-storage] Projected downwardAPI, mirrored from upstream's test/e2e/common/storage/projected_downwardapi.go:
// the Downward API volume tests with the items as the source of a projected volume.
import { allocatableDefault, containerResource, podname, podnameMode, updateOnModification } from './helpers/downward-volume-e2e.ts';
import { volumeSuite } from './helpers/volume-e2e.ts';

const it = volumeSuite();

it('[sig-storage] Projected downwardAPI should provide podname only [NodeConformance] [Conformance]', (v) => podname(v, true));
it('[sig-storage] Projected downwardAPI should set DefaultMode on files [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  podnameMode(v, true, { defaultMode: 0o400 }));
it('[sig-storage] Projected downwardAPI should set mode on item file [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  podnameMode(v, true, { itemMode: 0o400 }));
it('[sig-storage] Projected downwardAPI should update labels on modification [NodeConformance] [Conformance]', (v) => updateOnModification(v, true, 'labels'));
it('[sig-storage] Projected downwardAPI should update annotations on modification [NodeConformance] [Conformance]', (v) =>
  updateOnModification(v, true, 'annotations'));
it("[sig-storage] Projected downwardAPI should provide container's cpu limit [NodeConformance] [Conformance]", (v) =>
  containerResource(v, true, 'cpu_limit', '2'));
it("[sig-storage] Projected downwardAPI should provide container's memory limit [NodeConformance] [Conformance]", (v) =>
  containerResource(v, true, 'memory_limit', '67108864'));
it("[sig-storage] Projected downwardAPI should provide container's cpu request [NodeConformance] [Conformance]", (v) =>
  containerResource(v, true, 'cpu_request', '1'));
it("[sig-storage] Projected downwardAPI should provide container's memory request [NodeConformance] [Conformance]", (v) =>
  containerResource(v, true, 'memory_request', '33554432'));
it('[sig-storage] Projected downwardAPI should provide node allocatable (cpu) as default cpu limit if the limit is not set [NodeConformance] [Conformance]', (v) =>
  allocatableDefault(v, true, 'cpu_limit'));
it('[sig-storage] Projected downwardAPI should provide node allocatable (memory) as default memory limit if the limit is not set [NodeConformance] [Conformance]', (v) =>
  allocatableDefault(v, true, 'memory_limit'));
