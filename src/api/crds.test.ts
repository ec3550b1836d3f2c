import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
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
