// `flightdeck crds`: prints the CustomResourceDefinitions, or with --write
// regenerates the committed files under config/crd.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allCrdsYaml, crdFileName, crdYaml, kinds } from '../api/crds.ts';

export function crdsCommand(args: readonly string[], repoRoot: string): number {
  if (args.includes('--write')) {
    const dir = join(repoRoot, 'config', 'crd');
    mkdirSync(dir, { recursive: true });
    for (const kind of kinds) {
      const file = join(dir, crdFileName(kind));
      writeFileSync(file, crdYaml(kind));
      process.stderr.write(`wrote ${file}\n`);
    }
    return 0;
  }
  if (args.length > 0) {
    process.stderr.write(`flightdeck crds: unknown argument ${args[0] ?? ''}\nusage: flightdeck crds [--write]\n`);
    return 2;
  }
  process.stdout.write(allCrdsYaml());
  return 0;
}
