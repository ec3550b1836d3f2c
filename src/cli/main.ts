// The `flightdeck` command. Run it from a checkout as ./bin/flightdeck.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdsCommand } from './crds.ts';
import { operatorCommand } from './operator.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const usage = `flightdeck — a Kubernetes operator for MariaDB databases and users

usage:
  flightdeck operator          run the operator against $KUBECONFIG or the in-cluster config
  flightdeck crds [--write]    print the CRDs (--write: regenerate config/crd/)
  flightdeck dev up [--nodes N]  start the local environment in the background (idempotent);
                               --nodes N: a cluster with N nodes that runs real pods
  flightdeck dev env           print the shell exports for it:  eval "$(./bin/flightdeck dev env)"
  flightdeck dev status        say what runs
  flightdeck dev sql [args]    open the MariaDB client on the local server as admin
  flightdeck dev down          stop everything 'dev up' started and remove its data
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'operator':
      return operatorCommand(rest);
    case 'crds':
      return crdsCommand(rest, repoRoot);
    case 'dev': {
      // Loaded only here: the development environment is not part of the operator image.
      // A computed specifier, so that tsc does not compile test/env into the
      // operator's build (tsconfig.build.json), and a file URL, so that its
      // .ts is not rewritten to .js: from dist/ too it loads the checkout's source.
      const devcli: string = new URL('../../test/env/devcli.ts', import.meta.url).href;
      const { devCommand } = (await import(devcli)) as { devCommand: (args: readonly string[]) => Promise<number> };
      return devCommand(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`flightdeck: unknown command ${JSON.stringify(command)}\n\n${usage}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
