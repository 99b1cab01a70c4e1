// How the exec shim (shim.c) is compiled, declared once for build.mjs and the test kit
// (test/support/cni/build.ts). Static, so an exec maps no shared libraries (glibc's static libc.a
// comes with libc6-dev, which `make apt` installs with gcc). No imports: build.mjs loads this file
// through esbuild before anything is bundled, as it does names.ts.

export const SHIM_SOURCE = 'cni-plugins/shim/shim.c';

/** gcc's arguments to compile the shim at `source` (relative to the repository root, or absolute) to `out`. */
export const shimCompileArgs = (source: string, out: string): string[] => ['-static', '-Os', '-s', '-Wall', '-Wextra', '-Werror', '-o', out, source];
