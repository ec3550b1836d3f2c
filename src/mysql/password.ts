// Passwords of mysql_native_password accounts. The client sends MariaDB the
// password's hash (`IDENTIFIED BY PASSWORD '*…'`), never the password: MariaDB
// cannot take a password as a server-side placeholder in CREATE/ALTER USER,
// and a password written into the statement text would show in the process
// list, the general and slow query logs and audit logs. The same hash lets a
// resync tell whether the password changed without sending a write.
import { createHash, timingSafeEqual } from 'node:crypto';

/** The mysql_native_password plugin, the only one whose hash this client computes. */
export const nativePasswordPlugin = 'mysql_native_password';

/** What MariaDB stores for `password` under mysql_native_password: `*` + upper-case hex of SHA1(SHA1(password)), UTF-8. */
export function nativePasswordHash(password: string): string {
  const inner = createHash('sha1').update(password, 'utf8').digest();
  return '*' + createHash('sha1').update(inner).digest('hex').toUpperCase();
}

/** The account fields passwordMatches reads; UserInfo has them. */
export interface StoredCredentials {
  readonly plugin: string;
  readonly authenticationString: string;
}

/**
 * True when `user` authenticates with mysql_native_password and its stored
 * hash is that of `password`. False for any other plugin (ed25519,
 * unix_socket, …): the caller then sets the password, which also moves the
 * account to mysql_native_password. Pure; compares in constant time.
 */
export function passwordMatches(user: StoredCredentials, password: string): boolean {
  if (user.plugin !== nativePasswordPlugin) return false;
  const expected = Buffer.from(password === '' ? '' : nativePasswordHash(password), 'utf8');
  const stored = Buffer.from(user.authenticationString.toUpperCase(), 'utf8');
  return expected.length === stored.length && timingSafeEqual(expected, stored);
}

/** Thrown, before any statement is sent, for a password the client refuses to set. The message never holds the password. */
export class InvalidPasswordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPasswordError';
  }
}

/**
 * The hash to send for a new password. An empty password is refused: an
 * account without one lets anybody in who can reach the server.
 */
export function hashForNewPassword(password: string): string {
  if (password.length === 0) throw new InvalidPasswordError('refusing to set an empty password');
  return nativePasswordHash(password);
}
