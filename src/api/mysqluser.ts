// MySQLUser: an account on a MySQLCluster with its privileges, created live,
// and the connection Secret that applications read.
import * as s from './schema.ts';
import {
  clusterReference,
  conditions,
  deletionPolicies,
  objectName,
  observedGeneration,
  secretKeyReference,
  type Resource,
} from './common.ts';
import { databaseName, hostName, tableName, userName } from '../mysql/identifiers.ts';
import { allPrivileges } from '../mysql/privileges.ts';

const privilegeNames = `[${allPrivileges.map((p) => `'${p}'`).join(', ')}]`;

const privilegeName = s.string({
  description: 'A privilege such as ALL, SELECT or "CREATE TEMPORARY TABLES" (any letter case, words separated by one space).',
  minLength: 1,
  maxLength: 64,
  validations: [
    {
      rule: `self.upperAscii() in ${privilegeNames}`,
      message: 'unknown privilege; use a MariaDB privilege name such as ALL, SELECT, INSERT, UPDATE, DELETE or CREATE',
    },
  ],
});

const privilege = s.object(
  {
    database: s.string({
      description: `Database the privileges apply to, or "*" for all databases (reserved for users in the cluster's own namespace). Allowed: ${databaseName.explanation}.`,
      minLength: 1,
      maxLength: databaseName.maxLength,
      pattern: `^([*]|${databaseName.pattern.slice(1, -1)})$`,
    }),
    table: s.string({
      description: 'Table within the database, or "*" (default) for all of them.',
      default: '*',
      minLength: 1,
      maxLength: tableName.maxLength,
      pattern: tableName.pattern,
    }),
    grant: privilegeName,
    grants: s.array(privilegeName, { description: 'Several privileges. Use either grant or grants.', maxItems: 32 }),
    withGrantOption: s.boolean({
      description: 'Also let the user pass these privileges on (GRANT OPTION). Defaults to false.',
      default: false,
    }),
  },
  {
    description: 'Privileges on one database or table. With neither grant nor grants the user only gets USAGE (may connect).',
    required: ['database'],
    validations: [{ rule: '!(has(self.grant) && has(self.grants))', message: 'use either grant or grants, not both' }],
  },
);

export const mysqlUserSpec = s.object(
  {
    cluster: clusterReference,
    username: s.string({
      description: `User name in MariaDB. Defaults to metadata.name with "-" replaced by "_". Allowed: ${userName.explanation}. Cannot be changed after creation.`,
      minLength: 1,
      maxLength: userName.maxLength,
      pattern: userName.pattern,
      validations: [{ rule: 'self == oldSelf', message: 'username cannot be changed after creation; create a new MySQLUser' }],
    }),
    host: s.string({
      description: 'Host the user may connect from, as MariaDB writes it ("%" for anywhere, the default). Cannot be changed after creation.',
      default: '%',
      minLength: 1,
      maxLength: hostName.maxLength,
      pattern: hostName.pattern,
      validations: [{ rule: 'self == oldSelf', message: 'host cannot be changed after creation; create a new MySQLUser' }],
    }),
    state: s.enumeration(['present', 'absent'] as const, {
      description: 'present (default): the user exists. absent: the user is dropped and this object kept.',
      default: 'present',
    }),
    privileges: s.array(privilege, {
      description:
        'Privileges of the user. Applied exactly: what is listed is granted, what is no longer listed is revoked.',
      maxItems: 64,
    }),
    passwordSecretRef: secretKeyReference(
      'Secret key holding the password. When the Secret does not exist, a strong password is generated and stored in it. When its value changes, the password follows.',
      'password',
    ),
    passwordSecret: objectName(
      'Deprecated: name of a Secret whose key "db-pass.txt" holds the password, as the original operator accepted it. Use passwordSecretRef.',
    ),
    connectionSecret: s.object(
      { name: objectName('Name of the Secret. Defaults to <metadata.name>-connection.') },
      {
        description:
          'The Secret written for applications, with keys host, port, username, password, database (when the user has privileges on exactly one database) and uri.',
        required: ['name'],
      },
    ),
    maxUserConnections: s.integer({
      description: 'Most connections the user may hold at once. Unlimited when absent.',
      minimum: 0,
      maximum: 100000,
    }),
    deletionPolicy: s.enumeration(deletionPolicies, {
      description: 'Delete (default): deleting this object drops the user. Retain: the user stays in MariaDB.',
      default: 'Delete',
    }),
  },
  {
    description: 'Desired state of the MySQLUser.',
    required: ['cluster'],
    validations: [
      {
        rule: '!(has(self.passwordSecret) && has(self.passwordSecretRef))',
        message: 'use either passwordSecretRef or passwordSecret, not both',
      },
    ],
  },
);
export type MySQLUserSpec = s.TypeOf<typeof mysqlUserSpec>;

export const mysqlUserStatus = s.object(
  {
    conditions,
    observedGeneration,
    username: s.string({ description: 'User name in MariaDB.', maxLength: 80 }),
    host: s.string({ description: 'Host part of the account.', maxLength: 255 }),
    cluster: s.string({ description: 'The cluster, as namespace/name.', maxLength: 320 }),
    passwordSecret: s.string({ description: 'Secret holding the password.', maxLength: 253 }),
    connectionSecret: s.string({ description: 'Secret with the connection details.', maxLength: 253 }),
  },
  { description: 'Observed state of the MySQLUser.' },
);
export type MySQLUserStatus = s.TypeOf<typeof mysqlUserStatus>;

/** Without spec.username the user is named after metadata.name, which must then be a valid user name. */
export const mysqlUserRootValidations: s.ValidationRule[] = [
  {
    rule: `has(self.spec.username) || self.metadata.name.size() <= ${userName.maxLength}`,
    message: `metadata.name cannot serve as the user name (at most ${userName.maxLength} characters); set spec.username`,
  },
];

export type MySQLUser = Resource<'MySQLUser', MySQLUserSpec, MySQLUserStatus>;
