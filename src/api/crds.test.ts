import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chartCrdDir, chartCrdFileName, chartCrdTemplate, escapeTemplateActions } from './chart-crds.ts';
import { crdFileName, crdYaml, customResourceDefinition, kinds } from './crds.ts';
import type { OpenApiSchema } from './schema.ts';
import { managedOnlyFields, mysqlClusterSpec } from './mysqlcluster.ts';

const repoRoot = join(import.meta.dirname, '../..');

/** Every schema node below `root`, with its path. */
function* walk(schema: OpenApiSchema, path: string): Generator<[string, OpenApiSchema]> {
  yield [path, schema];
  for (const [name, child] of Object.entries(schema.properties ?? {})) yield* walk(child, `${path}.${name}`);
  if (schema.items !== undefined) yield* walk(schema.items, `${path}[]`);
  if (schema.additionalProperties !== undefined) yield* walk(schema.additionalProperties, `${path}{}`);
}

function openApiOf(kind: (typeof kinds)[number]): OpenApiSchema {
  const crd = customResourceDefinition(kind) as {
    spec: { versions: { schema: { openAPIV3Schema: OpenApiSchema } }[] };
  };
  const schema = crd.spec.versions[0]?.schema.openAPIV3Schema;
  assert.ok(schema);
  return schema;
}

describe('CRDs', () => {
  for (const kind of kinds) {
    it(`config/crd/${crdFileName(kind)} is what src/api generates`, () => {
      const committed = readFileSync(join(repoRoot, 'config/crd', crdFileName(kind)), 'utf8');
      assert.equal(committed, crdYaml(kind), 'the committed CRD is stale: run ./bin/flightdeck crds --write');
    });

    it(`${kind.kind}: every field has a description, so kubectl explain documents it`, () => {
      const undocumented = [...walk(openApiOf(kind), kind.kind)]
        .filter(([path, schema]) => path !== `${kind.kind}.metadata` && (schema.description ?? '').trim() === '')
        .map(([path]) => path);
      assert.deepEqual(undocumented, []);
    });

    it(`${kind.kind}: every string has a maximum length or an enum`, () => {
      // Without maxLength the API server estimates CEL costs as unbounded and
      // may refuse the CRD; keep every string bounded except free-form text.
      const unbounded = [...walk(openApiOf(kind), kind.kind)]
        .filter(
          ([, schema]) =>
            schema.type === 'string' && schema.maxLength === undefined && schema.enum === undefined && schema.format !== 'date-time',
        )
        .map(([path]) => path);
      assert.deepEqual(unbounded, [
        `${kind.kind}.apiVersion`,
        `${kind.kind}.kind`,
      ]);
    });
  }

  it('every managed-only MySQLCluster field exists in the spec', () => {
    const properties = Object.keys(mysqlClusterSpec.openapi.properties ?? {});
    for (const field of managedOnlyFields) assert.ok(properties.includes(field), field);
  });
});

describe("the Helm chart's CRD templates", () => {
  for (const kind of kinds) {
    it(`${chartCrdDir}/${chartCrdFileName(kind)} is what src/api generates`, () => {
      const committed = readFileSync(join(repoRoot, chartCrdDir, chartCrdFileName(kind)), 'utf8');
      assert.equal(committed, chartCrdTemplate(kind), "the chart's CRD template is stale: run ./bin/flightdeck crds --write");
    });
  }

  it('holds no template of a kind that src/api no longer defines', () => {
    assert.deepEqual(readdirSync(join(repoRoot, chartCrdDir)).sort(), kinds.map((k) => chartCrdFileName(k)).sort());
  });

  it('are kept by helm uninstall, and can be left out', () => {
    for (const kind of kinds) {
      const template = chartCrdTemplate(kind);
      assert.match(template, /\n {4}helm\.sh\/resource-policy: keep\n/);
      assert.match(template, /^\{\{- \/\*.*\*\/\}\}\n\{\{- if \.Values\.crds\.install \}\}\n/);
      assert.match(template, /\{\{- end \}\}\n$/);
    }
  });

  it('text that looks like a template action is printed as written', () => {
    // A CEL rule or a description may one day contain braces; helm must not read them.
    assert.equal(escapeTemplateActions('a {{ b }} c'), 'a {{`{{`}} b {{`}}`}} c');
  });
});
