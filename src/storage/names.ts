// Bucket names and object keys checked before a request is built, so that a
// name from a user's MySQLBackup can never change which path is asked for
// (a bucket is one path segment) or reach the server malformed.

/** S3's rules for new buckets: 3–63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit, no '..', not an IP address. */
export function validateBucketName(bucket: string): void {
  const problem =
    bucket.length < 3 || bucket.length > 63 ? 'must be 3 to 63 characters long'
    : !/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket) ? 'may hold only lower-case letters, digits, dots and hyphens, and must start and end with a letter or digit'
    : bucket.includes('..') ? 'must not contain two dots in a row'
    : /^\d+\.\d+\.\d+\.\d+$/.test(bucket) ? 'must not look like an IP address'
    : undefined;
  if (problem !== undefined) throw new Error(`invalid S3 bucket name ${JSON.stringify(bucket)}: it ${problem}`);
}

/**
 * Keys: 1 to 1024 bytes of UTF-8, without control characters (which XML
 * listings cannot carry) and without '.' or '..' segments, which stores on a
 * file system (SeaweedFS's filer) refuse or resolve, and which an HTTP
 * library or proxy may collapse on the way.
 */
export function validateObjectKey(key: string): void {
  const bytes = Buffer.byteLength(key, 'utf8');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  const problem = bytes === 0 ? 'is empty' : bytes > 1024 ? `is ${bytes} bytes long, more than 1024` : /[\u0000-\u001f\u007f]/.test(key) ? 'contains a control character' : !key.isWellFormed() ? 'is not valid Unicode' : key.split('/').some((segment) => segment === '.' || segment === '..') ? "has a '.' or '..' segment" : undefined;
  if (problem !== undefined) throw new Error(`invalid S3 object key ${JSON.stringify(key.slice(0, 100))}: it ${problem}`);
}
