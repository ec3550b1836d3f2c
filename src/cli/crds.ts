// `flightdeck crds`: prints the CustomResourceDefinitions, or with --write
// regenerates the committed files: config/crd/ (plain manifests) and the
// Helm chart's CRD templates.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartCrdDir, chartCrdFileName, chartCrdTemplate } from '../api/chart-crds.ts';
import { allCrdsYaml, crdFileName, crdYaml, kinds } from '../api/crds.ts';

function writeAll(dir: string, fileName: (kind: (typeof kinds)[number]) => string, content: (kind: (typeof kinds)[number]) => string): void {
  mkdirSync(dir, { recursive: true });
  for (const kind of kinds) {
    const file = join(dir, fileName(kind));
    writeFileSync(file, content(kind));
    process.stderr.write(`wrote ${file}\n`);
  }
}

export function crdsCommand(args: readonly string[], repoRoot: string): number {
  if (args.includes('--write')) {
    writeAll(join(repoRoot, 'config', 'crd'), crdFileName, crdYaml);
    writeAll(join(repoRoot, chartCrdDir), chartCrdFileName, chartCrdTemplate);
    return 0;
  }
  if (args.length > 0) {
    process.stderr.write(`flightdeck crds: unknown argument ${args[0] ?? ''}\nusage: flightdeck crds [--write]\n`);
    return 2;
  }
  process.stdout.write(allCrdsYaml());
  return 0;
}
