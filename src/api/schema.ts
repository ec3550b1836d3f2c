// A small schema builder: each API field is written once, and from that one
// definition come both its TypeScript type (through `TypeOf`) and its
// structural OpenAPI v3 schema for the CRD (through `.openapi`).
//
// Every builder takes a `description`, so `kubectl explain` documents every
// field by construction. Only the OpenAPI keywords that CRD structural schemas
// allow are produced.

/** One CEL rule, as `x-kubernetes-validations` holds it. */
export interface ValidationRule {
  readonly rule: string;
  readonly message: string;
  /** Field path reported with the error, e.g. `.dbName`. */
  readonly fieldPath?: string;
  /** Why the request is refused: FieldValueInvalid, FieldValueForbidden, … */
  readonly reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps this project emits. */
export interface OpenApiSchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
  /** Always set by the builders below; only the root `metadata` goes without. */
  description?: string;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  enum?: readonly (string | number)[];
  default?: unknown;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  items?: OpenApiSchema;
  additionalProperties?: OpenApiSchema;
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

/** A field's schema, carrying the TypeScript type of its values. */
export interface Schema<T> {
  readonly openapi: OpenApiSchema;
  /** Never set: it only carries `T` for `TypeOf`. */
  readonly valueType?: T;
}

/** The TypeScript type of the values a schema admits. */
export type TypeOf<S> = S extends Schema<infer T> ? T : never;

interface Common<T> {
  description: string;
  default?: T;
  validations?: ValidationRule[];
}

function withCommon<T>(base: OpenApiSchema, options: Common<T>): Schema<T> {
  const openapi: OpenApiSchema = { ...base, description: options.description };
  if (options.default !== undefined) openapi.default = options.default;
  if (options.validations !== undefined && options.validations.length > 0) {
    openapi['x-kubernetes-validations'] = options.validations;
  }
  return { openapi };
}

export function string(
  options: Common<string> & { pattern?: string; minLength?: number; maxLength?: number; format?: string },
): Schema<string> {
  const base: OpenApiSchema = { type: 'string', description: '' };
  if (options.pattern !== undefined) base.pattern = options.pattern;
  if (options.minLength !== undefined) base.minLength = options.minLength;
  if (options.maxLength !== undefined) base.maxLength = options.maxLength;
  if (options.format !== undefined) base.format = options.format;
  return withCommon(base, options);
}

export function enumeration<const V extends readonly string[]>(values: V, options: Common<V[number]>): Schema<V[number]> {
  return withCommon({ type: 'string', description: '', enum: values }, options);
}

/** An integer; int32 unless `format: 'int64'` (sizes in bytes, which pass 2 GiB). */
export function integer(options: Common<number> & { minimum?: number; maximum?: number; format?: 'int32' | 'int64' }): Schema<number> {
  const base: OpenApiSchema = { type: 'integer', description: '', format: options.format ?? 'int32' };
  if (options.minimum !== undefined) base.minimum = options.minimum;
  if (options.maximum !== undefined) base.maximum = options.maximum;
  return withCommon(base, options);
}

export function boolean(options: Common<boolean>): Schema<boolean> {
  return withCommon({ type: 'boolean', description: '' }, options);
}

/** A Kubernetes resource quantity such as `20Gi` or `1073741824`. */
export function quantity(options: Common<string>): Schema<string | number> {
  return withCommon(
    {
      description: '',
      'x-kubernetes-int-or-string': true,
      // The quantity grammar of k8s.io/apimachinery, as the built-in types use it.
      pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
    },
    options,
  );
}

export function array<T>(
  items: Schema<T>,
  options: Common<T[]> & { minItems?: number; maxItems?: number; listType?: 'atomic' | 'set' },
): Schema<T[]> {
  const base: OpenApiSchema = { type: 'array', description: '', items: items.openapi };
  if (options.minItems !== undefined) base.minItems = options.minItems;
  if (options.maxItems !== undefined) base.maxItems = options.maxItems;
  if (options.listType !== undefined) base['x-kubernetes-list-type'] = options.listType;
  return withCommon(base, options);
}

/** A map from string keys to values of one schema (`additionalProperties`). */
export function map<T>(values: Schema<T>, options: Common<Record<string, T>> & { maxProperties?: number }): Schema<Record<string, T>> {
  const base: OpenApiSchema = { type: 'object', description: '', additionalProperties: values.openapi };
  if (options.maxProperties !== undefined) base.maxProperties = options.maxProperties;
  return withCommon(base, options);
}

/**
 * An object whose inner fields Kubernetes defines (affinity, tolerations,
 * resources…). It is kept as given and validated by the API server when the
 * operator copies it into a pod template, which keeps our CRDs small.
 */
export function opaque(options: Common<Record<string, unknown>>): Schema<Record<string, unknown>> {
  return withCommon({ type: 'object', description: '', 'x-kubernetes-preserve-unknown-fields': true }, options);
}

type Properties = Record<string, Schema<unknown>>;

type ObjectType<P extends Properties, R extends keyof P> = {
  [K in keyof P as K extends R ? K : never]: TypeOf<P[K]>;
} & {
  [K in keyof P as K extends R ? never : K]?: TypeOf<P[K]>;
};

/** Flattens an intersection so hovers and errors show one object type. */
type Flatten<T> = { [K in keyof T]: T[K] };

export function object<const P extends Properties, const R extends keyof P & string = never>(
  properties: P,
  options: Common<Flatten<ObjectType<P, R>>> & { required?: readonly R[] },
): Schema<Flatten<ObjectType<P, R>>> {
  const props: Record<string, OpenApiSchema> = {};
  for (const [name, schema] of Object.entries(properties)) props[name] = schema.openapi;
  const base: OpenApiSchema = { type: 'object', description: '', properties: props };
  if (options.required !== undefined && options.required.length > 0) base.required = [...options.required];
  return withCommon(base, options);
}
