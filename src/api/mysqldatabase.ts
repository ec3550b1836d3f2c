// MySQLDatabase: one database on a MySQLCluster, created live.
import * as s from './schema.ts';
import { clusterReference, conditions, deletionPolicies, observedGeneration, type Resource } from './common.ts';
import { charsetName, collationName, databaseName, systemDatabases } from '../mysql/identifiers.ts';

const systemDatabaseList = `[${systemDatabases.map((d) => `'${d}'`).join(', ')}]`;

export const mysqlDatabaseSpec = s.object(
  {
    cluster: clusterReference,
    dbName: s.string({
      description: `Name of the database in MariaDB. Defaults to metadata.name with "-" replaced by "_". Allowed: ${databaseName.explanation}. Cannot be changed after creation.`,
      minLength: 1,
      maxLength: databaseName.maxLength,
      pattern: databaseName.pattern,
      validations: [
        { rule: `!(self in ${systemDatabaseList})`, message: 'dbName names a system database of MariaDB' },
        { rule: 'self == oldSelf', message: 'dbName cannot be changed after creation; create a new MySQLDatabase' },
      ],
    }),
    encoding: s.string({
      description: 'Default character set of the database. Defaults to utf8mb4.',
      minLength: 1,
      maxLength: charsetName.maxLength,
      pattern: charsetName.pattern,
    }),
    collation: s.string({
      description:
        'Default collation of the database. Defaults to utf8mb4_unicode_ci for utf8mb4, otherwise to the server default for the character set.',
      minLength: 1,
      maxLength: collationName.maxLength,
      pattern: collationName.pattern,
    }),
    deletionPolicy: s.enumeration(deletionPolicies, {
      description: 'Retain (default): deleting this object leaves the database and its data. Delete: drop the database too.',
      default: 'Retain',
    }),
  },
  {
    description: 'Desired state of the MySQLDatabase.',
    required: ['cluster'],
    validations: [
      {
        rule: "!has(self.encoding) || !has(self.collation) || self.collation.startsWith(self.encoding + '_')",
        message: 'collation must belong to the encoding (for example utf8mb4_unicode_ci for utf8mb4)',
        fieldPath: '.collation',
      },
    ],
  },
);
export type MySQLDatabaseSpec = s.TypeOf<typeof mysqlDatabaseSpec>;

export const mysqlDatabaseStatus = s.object(
  {
    conditions,
    observedGeneration,
    dbName: s.string({ description: 'Name of the database in MariaDB.', maxLength: 64 }),
    encoding: s.string({ description: 'Character set of the database.', maxLength: 32 }),
    collation: s.string({ description: 'Collation of the database.', maxLength: 64 }),
    cluster: s.string({ description: 'The cluster, as namespace/name.', maxLength: 320 }),
  },
  { description: 'Observed state of the MySQLDatabase.' },
);
export type MySQLDatabaseStatus = s.TypeOf<typeof mysqlDatabaseStatus>;

/**
 * Checks on the whole object: without spec.dbName the database is named after
 * metadata.name, which must then make a valid database name.
 */
export const mysqlDatabaseRootValidations: s.ValidationRule[] = [
  {
    rule: "has(self.spec.dbName) || (self.metadata.name.size() <= 64 && !self.metadata.name.contains('.'))",
    message: 'metadata.name cannot serve as the database name (at most 64 characters, no "."); set spec.dbName',
  },
  {
    rule: `has(self.spec.dbName) || !(self.metadata.name.replace('-', '_') in ${systemDatabaseList})`,
    message: 'metadata.name would name a system database of MariaDB; set spec.dbName',
  },
];

export type MySQLDatabase = Resource<'MySQLDatabase', MySQLDatabaseSpec, MySQLDatabaseStatus>;
