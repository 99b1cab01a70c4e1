// The loader Node runs as dist/hawser.cjs (and each dist/cni/<plugin>.cjs): it runs the bundle
// beside it (<name>.bundle.cjs) through load.ts, with V8's code cache. Kept tiny: it is compiled
// without a cache on every start.
import { bundleOf } from './cache-file.ts';
import { loadBundle } from './load.ts';

loadBundle(bundleOf(__filename), module);
