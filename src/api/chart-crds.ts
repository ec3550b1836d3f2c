// The CRDs as templates of the Helm chart. Helm installs files in a chart's
// crds/ folder once and never upgrades them, so a new field would never reach
// a cluster installed from an older chart; as templates they are upgraded with
// the release. `helm.sh/resource-policy: keep` makes `helm uninstall` leave
// them, because deleting a CRD deletes every object of its kind — every
// database and user declaration — with it.
//
// The spec is exactly the one of config/crd (customResourceDefinition); only
// the metadata differs: the chart's labels and the keep policy.
import { stringify } from 'yaml';
import { customResourceDefinition, crdFileName, type kinds } from './crds.ts';

/** Where the CRD templates live, relative to the repository root. */
export const chartCrdDir = 'charts/flightdeck-operator/templates/crds';

type KindDefinition = (typeof kinds)[number];

/** File name of a CRD template under chartCrdDir: the same as under config/crd. */
export function chartCrdFileName(definition: KindDefinition): string {
  return crdFileName(definition);
}

/**
 * Text that the Go template engine would read as an action is printed
 * literally instead: a CEL rule or a description may one day contain `{{`.
 * One pass, so the replacement's own braces are not replaced again.
 */
export function escapeTemplateActions(text: string): string {
  return text.replace(/\{\{|\}\}/g, (braces) => `{{\`${braces}\`}}`);
}

const header =
  '{{- /* Generated from src/api by `./bin/flightdeck crds --write`. Do not edit. */}}\n' +
  '{{- if .Values.crds.install }}\n';

/** The chart template of one CRD. */
export function chartCrdTemplate(definition: KindDefinition): string {
  const crd = customResourceDefinition(definition) as { metadata: { name: string; labels?: Record<string, string> }; spec: unknown };
  const ownLabels = Object.entries(crd.metadata.labels ?? {})
    // The chart's labels carry app.kubernetes.io/part-of already.
    .filter(([key]) => key !== 'app.kubernetes.io/part-of')
    .map(([key, value]) => `    ${key}: ${JSON.stringify(value)}\n`)
    .join('');
  const metadata =
    'apiVersion: apiextensions.k8s.io/v1\n' +
    'kind: CustomResourceDefinition\n' +
    'metadata:\n' +
    `  name: ${crd.metadata.name}\n` +
    '  labels:\n' +
    '    {{- include "flightdeck-operator.labels" . | nindent 4 }}\n' +
    ownLabels +
    '  annotations:\n' +
    '    # Kept by `helm uninstall`: deleting a CRD would delete every object of its kind.\n' +
    '    helm.sh/resource-policy: keep\n';
  const spec = escapeTemplateActions(stringify({ spec: crd.spec }, { lineWidth: 0 }));
  return `${header}${metadata}${spec}{{- end }}\n`;
}
