// Command line of the runner. Pure, so that usage errors are tested without a cluster.

export interface RunOptions {
  kubeconfig?: string;
  focus?: RegExp;
  subset?: string;
  /** leave the runner's own lab up afterwards (for debugging a failure) */
  keepLab: boolean;
  report?: string;
  junit?: string;
  help: boolean;
}

export const USAGE = `usage: node --import=tsx test/conformance/run.ts [options]
  --kubeconfig FILE  run against this cluster (default: $KUBECONFIG, else a netns lab "conf" on 10.80.0.0/24
                     brought up for the run and removed after it)
  --focus REGEX      only tests whose title matches REGEX
  --subset NAME      only a named subset of tests (core: the CI subset, a few minutes)
  --report FILE      Markdown report (default: docs/conformance/REPORT.md for a whole-suite run,
                     .build/conformance/REPORT.md for a focused or subset run)
  --junit FILE       JUnit XML (default: .build/conformance/junit.xml)
  --keep-lab         leave the runner's own lab running afterwards
  -h, --help         this text`;

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = {}): RunOptions {
  const o: RunOptions = { keepLab: false, help: false, kubeconfig: env.KUBECONFIG || undefined };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') && argv[i].startsWith('--') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    const take = () => (inline !== undefined ? inline : value(i++, flag));
    switch (flag) {
      case '--kubeconfig':
        o.kubeconfig = take();
        break;
      case '--focus': {
        const src = take();
        try {
          o.focus = new RegExp(src);
        } catch (e) {
          throw new Error(`--focus: ${(e as Error).message}`);
        }
        break;
      }
      case '--subset':
        o.subset = take();
        break;
      case '--report':
        o.report = take();
        break;
      case '--junit':
        o.junit = take();
        break;
      case '--keep-lab':
        o.keepLab = true;
        break;
      case '-h':
      case '--help':
        o.help = true;
        break;
      default:
        throw new Error(`unknown argument "${argv[i]}"\n${USAGE}`);
    }
  }
  return o;
}

/** Where the Markdown report goes: the committed report only for a whole-suite run. */
export function reportPath(o: RunOptions): string {
  if (o.report) return o.report;
  return o.focus || o.subset ? '.build/conformance/REPORT.md' : 'docs/conformance/REPORT.md';
}
