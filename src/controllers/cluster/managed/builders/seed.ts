// Seeding an instance from a consistent copy of another: the donor endpoint
// every instance's pod runs, and the init container that fills an empty (or
// discarded) data directory from a donor the operator names. Pure: the
// containers and scripts, unit-tested without a cluster; the scripts read
// their paths from the environment (with the pod's paths as defaults) so an
// integration test runs the very same scripts on real mariadbd processes.
//
// Why a copy and not replication "from the first transaction": binary logs
// expire (a week by default), so a new reader on an older cluster could never
// catch up that way; a copy needs only the binary logs written while it runs.
//
// The protocol (one TCP connection to the donor's port):
//   donor  → "flightdeck-donor 1 <nonce>\n"            a fresh random nonce per connection
//   client → "<proof> <command>\n"                      proof = sha256hex("<nonce>:<secret>")
//   donor  → "ok <command>\n" then the command's output, or "denied\n" and close
// Commands: `backup` streams `mariadb-backup --backup --stream=xbstream` of the
// donor's own data directory; `rebuild` leaves a marker in the donor's own data
// directory that makes its seed init container discard it at the next pod start
// (the operator sends it, then deletes the pod). The secret is the cluster's
// replication password, which never crosses the network: any pod may connect,
// only one that knows the password gets an answer, and a recorded exchange is
// worth nothing for the next nonce.
import type { ManagedServers } from '../../../../api/normalize.ts';
import { myCnfKey } from './config.ts';
import { quoteAccount } from '../../../../mysql/identifiers.ts';
import { targetWiring } from '../../../backup/job.ts';
import { credentialKeys, systemAccounts, type ClusterNames } from './names.ts';

/** The donor endpoint's container, port and port name. */
export const donorContainer = { name: 'donor', port: 3307, portName: 'donor' } as const;

/** The init container that seeds an empty data directory. */
export const seedContainerName = 'seed';

/** Pod annotation the operator writes: the instance (pod name) a waiting seed init container copies from. */
export const seedDonorAnnotation = 'flightdeck.t7.io/seed-donor';

/**
 * Pod annotation a user sets to ask for an instance's data to be discarded
 * and seeded again from a healthy instance (a quarantined or diverged
 * replica, which the operator never discards by itself). Any non-empty value.
 */
export const rebuildRequestAnnotation = 'flightdeck.t7.io/rebuild';

/** Files in the data directory that steer the seed init container. */
export const seedMarkers = {
  /** Left by the donor endpoint's `rebuild` command: discard this data directory at the next start and seed it. */
  rebuild: '.flightdeck-rebuild',
  /** Present while a copy is being made; a start that finds it discards the half-made copy and seeds again. */
  seeding: '.flightdeck-seeding',
  /** Present (with `seeding`) while instance 0 is filled from spec.bootstrapFrom's backup; a start that finds it tries again. */
  bootstrapping: '.flightdeck-bootstrapping',
} as const;

/** Where the pod's annotations are mounted (downward API), and the file that holds the donor's name. */
export const podInfoDir = '/etc/flightdeck/pod';
export const donorFile = 'seed-donor';

/** At most this many copies stream from one donor at once; more wait for the connection to be accepted. */
export const maxConcurrentCopies = 2;

/** The first line the donor sends. */
export const donorGreeting = 'flightdeck-donor 1';

/** The environment the scripts read, with the pod's values as defaults. */
const defaults = [
  'datadir="${FLIGHTDECK_DATADIR:-/var/lib/mysql}"',
  `my_cnf="\${FLIGHTDECK_MY_CNF:-/etc/mysql/flightdeck/${myCnfKey}}"`,
  'socket="${FLIGHTDECK_SOCKET:-/run/mysqld/mysqld.sock}"',
  'work="${TMPDIR:-/tmp}"',
];

/**
 * One connection's handler, run by socat with the connection on stdin and
 * stdout; what it says on stderr goes to the container's log.
 */
export function donorHandlerScript(): string {
  return [
    'set -uo pipefail',
    ...defaults,
    'peer="${SOCAT_PEERADDR:-unknown}"',
    'log() { echo "flightdeck-donor: $*" >&2; }',
    'nonce="$(od -An -N16 -tx1 /dev/urandom | tr -d " \\n")"',
    `printf '%s %s\\n' '${donorGreeting}' "$nonce"`,
    // A refusal exits 0: socat drops a connection at once when its handler fails, and the client would never read why.
    'if ! IFS=" " read -r -t 30 proof command; then log "no request from $peer"; exit 0; fi',
    // printf is a builtin: the secret is in no process's arguments.
    'expected="$(printf "%s:%s" "$nonce" "$FLIGHTDECK_SEED_SECRET" | sha256sum)"',
    'expected="${expected%% *}"',
    'if [ "$proof" != "$expected" ]; then printf "denied\\n"; log "refused $peer: wrong proof"; exit 0; fi',
    'case "$command" in',
    '  backup)',
    '    printf "ok backup\\n"',
    '    log "streaming a copy of $datadir to $peer"',
    '    target="$(mktemp -d "$work/flightdeck-donor.XXXXXX")"',
    // The log lines of mariadb-backup name every file; only its summary and errors matter.
    '    MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb-backup --defaults-extra-file="$my_cnf" --backup --stream=xbstream \\',
    '      --datadir="$datadir" --socket="$socket" --user=root --target-dir="$target" 2>"$target.log"',
    '    status=$?',
    '    rm -rf "$target"',
    '    if [ "$status" -ne 0 ]; then log "the copy for $peer failed (mariadb-backup exit $status):"; tail -n 20 "$target.log" >&2; rm -f "$target.log"; exit 1; fi',
    '    grep -E "completed OK|Streaming .*binlog_info" "$target.log" | tail -n 2 | sed "s/^/flightdeck-donor: /" >&2',
    '    rm -f "$target.log"',
    '    log "copy for $peer done"',
    '    ;;',
    '  rebuild)',
    `    if : >"$datadir/${seedMarkers.rebuild}"; then printf "ok rebuild\\n"; log "$peer asked to discard this data directory at the next start"; else printf "failed\\n"; fi`,
    '    ;;',
    '  *) printf "unknown\\n"; log "unknown command from $peer" ;;',
    'esac',
  ].join('\n');
}

/** The donor container's command: writes the handler to a file and listens, one handler process per connection. */
export function donorListenScript(): string {
  return [
    'set -eu',
    'handler="${TMPDIR:-/tmp}/flightdeck-donor.sh"',
    "cat >\"$handler\" <<'FLIGHTDECK_DONOR_HANDLER'",
    donorHandlerScript(),
    'FLIGHTDECK_DONOR_HANDLER',
    `port="\${FLIGHTDECK_DONOR_PORT:-${donorContainer.port}}"`,
    'echo "flightdeck-donor: listening on port $port" >&2',
    // --norc: bash run with a socket as stdin takes itself for a remote shell and reads ~/.bashrc, whose output would corrupt the exchange.
    `exec socat TCP-LISTEN:"$port",reuseaddr,fork,max-children=${maxConcurrentCopies} EXEC:"bash --norc --noprofile $handler"`,
  ].join('\n');
}

/**
 * The seed init container's script. It returns at once when the data
 * directory holds data, and for instance 0 with an empty one (the
 * entrypoint initialises it: the first primary of a new cluster). Otherwise
 * (another instance with an empty directory, a rebuild asked for, a copy
 * cut short) it discards what is there, waits for the operator to name a
 * donor in the pod annotation, streams the donor's copy, prepares it, and
 * sets gtid_slave_pos to the copy's GTID position on a server started on the
 * socket only. The operator, which sees an instance whose binary log is empty
 * but whose gtid_slave_pos is not, gives it the binlog state of its source
 * (gtid.ts seededBinlogState) and makes it a replica from exactly there.
 *
 * A cluster bootstrapped from a physical backup (spec.bootstrapFrom; the
 * FLIGHTDECK_BOOTSTRAP_* variables set): instance 0 with an empty data
 * directory, while no other instance runs (a cluster that has never had a
 * writer), fills it from the backup instead (bootstrapScript).
 */
export function seedScript(): string {
  return [
    'set -euo pipefail',
    ...defaults,
    `donor_file="\${FLIGHTDECK_DONOR_FILE:-${podInfoDir}/${donorFile}}"`,
    'domain="${FLIGHTDECK_DONOR_DOMAIN:-}"',
    `port="\${FLIGHTDECK_DONOR_PORT:-${donorContainer.port}}"`,
    'ordinal="${FLIGHTDECK_POD_INDEX:-${HOSTNAME##*-}}"',
    'log() { echo "flightdeck-seed: $*" >&2; }',
    'fail() { log "$*"; exit 1; }',
    `seeding="$datadir/${seedMarkers.seeding}"`,
    `bootstrapping="$datadir/${seedMarkers.bootstrapping}"`,
    'discard() {',
    '  : >"$seeding"',
    '  find "$datadir" -mindepth 1 -maxdepth 1 ! -name "$(basename "$seeding")" ! -name lost+found -exec rm -rf {} +',
    '}',
    ...serverFunctions(),
    ...bootstrapFunctions(),
    'from_backup=""',
    `if [ -e "$datadir/${seedMarkers.rebuild}" ]; then`,
    '  log "discarding the data directory, as the operator asked: it is rebuilt from a copy"',
    '  discard',
    'elif [ -e "$seeding" ]; then',
    '  log "an earlier copy did not finish: discarding it and starting again"',
    // A bootstrap cut short (or refused) is tried again: there is no donor to wait for.
    '  if [ -e "$bootstrapping" ]; then from_backup=yes; fi',
    '  discard',
    'elif [ -d "$datadir/mysql" ]; then',
    '  exit 0',
    'elif [ "$ordinal" = 0 ] && [ -n "${FLIGHTDECK_BOOTSTRAP_LOCATION:-}" ]; then',
    '  if other_instances_run; then',
    '    log "instance 0 with an empty data directory while other instances run: the cluster has had a writer, so it is not bootstrapped from the backup again; the entrypoint initialises it"',
    '    exit 0',
    '  fi',
    '  from_backup=yes',
    'elif [ "$ordinal" = 0 ]; then',
    '  log "instance 0 with an empty data directory: the entrypoint initialises it"',
    '  exit 0',
    'else',
    '  : >"$seeding"',
    'fi',
    'if [ -n "$from_backup" ]; then',
    '  bootstrap_from_backup',
    '  exit 0',
    'fi',
    'log "waiting for the operator to name a donor"',
    'waited=0',
    'donor=""',
    'until [ -n "$donor" ]; do',
    '  donor="$(cat "$donor_file" 2>/dev/null || true)"',
    '  if [ -z "$donor" ]; then',
    '    waited=$((waited + 1))',
    '    if [ $((waited % 60)) = 0 ]; then log "still waiting for a donor (${waited}s)"; fi',
    '    sleep 1',
    '  fi',
    'done',
    'case "$donor" in *[!a-zA-Z0-9.-]*) fail "the donor annotation holds an invalid name: $donor" ;; esac',
    'host="$donor${domain:+.$domain}"',
    'log "copying from $host:$port"',
    'started="$(date +%s)"',
    'exec 3<>"/dev/tcp/$host/$port" || fail "cannot connect to the donor $host:$port"',
    'IFS=" " read -r -t 30 banner version nonce <&3 || fail "no greeting from the donor $host"',
    `[ "$banner $version" = '${donorGreeting}' ] || fail "$host:$port is no donor endpoint"`,
    'proof="$(printf "%s:%s" "$nonce" "$FLIGHTDECK_SEED_SECRET" | sha256sum)"',
    'printf "%s backup\\n" "${proof%% *}" >&3',
    'IFS=" " read -r -t 30 answer what <&3 || fail "no answer from the donor $host"',
    '[ "$answer $what" = "ok backup" ] || fail "the donor $host refused: $answer"',
    'mbstream -x -C "$datadir" <&3 || fail "the copy from $host broke off"',
    'exec 3<&-',
    'prepare_copy "the copy from $host"',
    'start_seed_server',
    'seed_sql -e "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL gtid_slave_pos = \'$gtid\'"',
    'stop_seed_server',
    'rm -f "$seeding"',
    'log "seeded from $host at GTID position ${gtid:-(none)} in $(( $(date +%s) - started ))s"',
  ].join('\n');
}

/** Shell functions that prepare a copy in the data directory and run a server on it, on a socket only. */
function serverFunctions(): string[] {
  return [
    // Sets $gtid to the copy's GTID position.
    'prepare_copy() {',
    '  local what="$1"',
    // Written last by mariadb-backup: their absence means the stream was cut short.
    // (10.11 names it xtrabackup_binlog_info; later versions mariadb_backup_binlog_info.)
    '  info="$datadir/xtrabackup_binlog_info"',
    '  [ -f "$info" ] || info="$datadir/mariadb_backup_binlog_info"',
    '  [ -f "$info" ] && [ -f "$datadir/xtrabackup_checkpoints" ] || fail "$what is incomplete (no binlog position, no checkpoints)"',
    '  log "received $(du -sh "$datadir" | cut -f1) in $(( $(date +%s) - started ))s; preparing it"',
    '  mariadb-backup --prepare --target-dir="$datadir" 2>"$work/flightdeck-prepare.log" || { tail -n 20 "$work/flightdeck-prepare.log" >&2; fail "preparing $what failed"; }',
    '  gtid="$(cut -f3 "$info" | tr -d "\\n")"',
    '  [[ "$gtid" =~ ^([0-9]+-[0-9]+-[0-9]+(,[0-9]+-[0-9]+-[0-9]+)*)?$ ]] || fail "$what has an unreadable GTID position: $gtid"',
    '}',
    // The copy's own gtid_slave_pos table is the donor's; the copy's data ends at $gtid.
    'seed_socket="$work/flightdeck-seed.sock"',
    'seed_root_password="$MARIADB_ROOT_PASSWORD"',
    'seed_sql() { MYSQL_PWD="$seed_root_password" mariadb --socket="$seed_socket" --user=root "$@"; }',
    'start_seed_server() {',
    '  local as_user=""',
    '  if [ "$(id -u)" = 0 ]; then as_user=--user=root; fi',
    '  mariadbd --defaults-extra-file="$my_cnf" --datadir="$datadir" --skip-networking --socket="$seed_socket" \\',
    '    --pid-file="$work/flightdeck-seed.pid" --log-error="$work/flightdeck-seed-server.log" --skip-slave-start $as_user "$@" &',
    '  seed_pid=$!',
    '  local tries=0',
    '  until seed_sql -e "SELECT 1" >/dev/null 2>&1; do',
    '    tries=$((tries + 1))',
    '    if [ "$tries" -gt 600 ] || ! kill -0 "$seed_pid" 2>/dev/null; then tail -n 20 "$work/flightdeck-seed-server.log" >&2; fail "the copy does not start as a server"; fi',
    '    sleep 0.2',
    '  done',
    '}',
    'stop_seed_server() {',
    '  MYSQL_PWD="$seed_root_password" mariadb-admin --socket="$seed_socket" --user=root shutdown || kill "$seed_pid"',
    '  wait "$seed_pid" || true',
    '}',
  ];
}

/**
 * Shell functions of the bootstrap from a physical backup. The backup is
 * fetched, checked and unpacked by the image's flightdeck-backup
 * (physical-fetch: the SHA-256 of what it downloads must be the manifest's
 * before the copy is prepared), then started once on the socket with the
 * grant tables skipped, to give the system accounts this cluster's
 * passwords (the backup holds the source cluster's) and to clear the
 * source's replication state: this cluster starts a binary log history of
 * its own, so the operator takes instance 0 for the first writer of a new
 * cluster and seeds the readers from it as usual. The backup's GTID position
 * is kept in the data directory (.flightdeck-bootstrapped-from) and logged.
 */
function bootstrapFunctions(): string[] {
  const accounts = [systemAccounts.operator, systemAccounts.manager, systemAccounts.replication, { user: 'root', host: '%' }];
  const dropAccounts = `DROP USER IF EXISTS ${accounts.map((a) => quoteAccount(a.user, a.host)).join(', ')};`;
  return [
    // Another instance's donor endpoint answering means the cluster runs: pods
    // still in their init containers (a new cluster) listen on nothing.
    'other_instances_run() {',
    '  [ -n "$domain" ] || return 1',
    '  local address',
    '  for address in $(getent ahostsv4 "$domain" 2>/dev/null | cut -d" " -f1 | sort -u); do',
    '    if timeout 2 bash -c "exec 3<>/dev/tcp/$address/$port" 2>/dev/null; then return 0; fi',
    '  done',
    '  return 1',
    '}',
    'bootstrap_from_backup() {',
    '  : >"$seeding"',
    '  : >"$bootstrapping"',
    '  started="$(date +%s)"',
    '  log "bootstrapping this new cluster from the physical backup at $FLIGHTDECK_BOOTSTRAP_LOCATION"',
    '  [[ "${FLIGHTDECK_ROOT_PASSWORD_HASH:-}" =~ ^\\*[0-9A-F]{40}$ ]] || fail "the credentials Secret has no root password hash"',
    '  [ -n "${FLIGHTDECK_INITDB_SQL:-}" ] || fail "the credentials Secret has no initdb.sql"',
    '  local fetch_env=(LOCATION="$FLIGHTDECK_BOOTSTRAP_LOCATION" TMPDIR="$work" HOME="$work" RESULT_FILE="${FLIGHTDECK_RESULT_FILE:-/dev/termination-log}")',
    '  if [ -n "${FLIGHTDECK_BOOTSTRAP_KEY:-}" ]; then',
    '    (umask 077; printf "%s" "$FLIGHTDECK_BOOTSTRAP_KEY" >"$work/flightdeck-bootstrap.key")',
    '    fetch_env+=(ENCRYPTION_KEY_FILE="$work/flightdeck-bootstrap.key")',
    '  fi',
    '  if [ -n "${FLIGHTDECK_BOOTSTRAP_CA:-}" ]; then',
    '    printf "%s\\n" "$FLIGHTDECK_BOOTSTRAP_CA" >"$work/flightdeck-bootstrap-ca.crt"',
    '    fetch_env+=(RCLONE_CA_CERT="$work/flightdeck-bootstrap-ca.crt")',
    '  fi',
    '  local manifest status=0',
    '  manifest="$(env "${fetch_env[@]}" "${FLIGHTDECK_BACKUP_COMMAND:-flightdeck-backup}" physical-fetch "$datadir")" || status=$?',
    '  rm -f "$work/flightdeck-bootstrap.key"',
    '  if [ "$status" -ne 0 ]; then',
    // Nothing of a refused or broken download is kept; the next start tries again (the pod's termination message says why).
    '    discard',
    '    : >"$bootstrapping"',
    '    fail "bootstrapping from the backup failed (flightdeck-backup exit $status); nothing was started"',
    '  fi',
    '  prepare_copy "the backup at $FLIGHTDECK_BOOTSTRAP_LOCATION"',
    // The backup holds the source cluster's accounts: without grant tables first, to set this cluster's.
    '  seed_root_password=""',
    '  start_seed_server --skip-grant-tables',
    '  {',
    // Nothing of this is written to the binary log, which RESET MASTER empties at the end anyway.
    '    echo "SET sql_log_bin = 0;"',
    '    echo "FLUSH PRIVILEGES;"',
    `    echo ${shellQuote(dropAccounts)}`,
    '    printf "%s\\n" "$FLIGHTDECK_INITDB_SQL"',
    `    echo "CREATE USER 'root'@'%' IDENTIFIED BY PASSWORD '$FLIGHTDECK_ROOT_PASSWORD_HASH';"`,
    `    echo "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;"`,
    `    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY PASSWORD '$FLIGHTDECK_ROOT_PASSWORD_HASH';"`,
    // A history of its own: no source to replicate from, no binary log state, no applied position.
    '    echo "STOP SLAVE; RESET SLAVE ALL; RESET MASTER; SET GLOBAL gtid_slave_pos = \'\';"',
    '  } | seed_sql || { stop_seed_server; fail "giving the system accounts this cluster\'s passwords failed"; }',
    '  seed_root_password="$MARIADB_ROOT_PASSWORD"',
    '  stop_seed_server',
    '  printf "%s\\n" "$manifest" >"$datadir/.flightdeck-bootstrapped-from"',
    '  rm -f "$bootstrapping" "$seeding"',
    '  log "bootstrapped from backup $(printf "%s" "$manifest" | jq -r .id) of $(printf "%s" "$manifest" | jq -r .sourceInstance) at GTID position ${gtid:-(none)} in $(( $(date +%s) - started ))s; this cluster starts a binary log history of its own"',
    '}',
  ];
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The environment both containers need: root's password (for mariadb-backup and the seeding server) and the shared secret. */
function secretEnvironment(names: ClusterNames): Record<string, unknown>[] {
  return [
    { name: 'MARIADB_ROOT_PASSWORD', valueFrom: { secretKeyRef: { name: names.credentialsSecret, key: credentialKeys.rootPassword } } },
    { name: 'FLIGHTDECK_SEED_SECRET', valueFrom: { secretKeyRef: { name: names.credentialsSecret, key: credentialKeys.replicationPassword } } },
  ];
}

const securityContext = { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } };

export interface SeedContainersInput {
  readonly names: ClusterNames;
  readonly managed: ManagedServers;
  /** Volume mounts of the data directory, my.cnf and the socket directory, as the MariaDB container has them. */
  readonly mounts: { readonly data: string; readonly config: string; readonly socketDir: string };
}

/**
 * What the seed init container needs to bootstrap from spec.bootstrapFrom:
 * where the backup is (rclone's remote "target", as the backup Jobs have it),
 * the store's keys, the backup's encryption key and CA as Secret references
 * (values only inside the container), and the hashes of this cluster's
 * system accounts. Environment only: the StatefulSet's volumes stay as they are.
 */
export function bootstrapEnvironment(names: ClusterNames, bootstrap: NonNullable<ManagedServers['bootstrapFrom']>): Record<string, unknown>[] {
  const s3 = bootstrap.target.s3;
  if (s3 === undefined) throw new Error('bootstrapFrom.backup.target needs s3: a PVC target cannot be mounted into the instances');
  // The CA comes as a variable (written to a file by the script), not as targetWiring's volume.
  const { tls, ...store } = s3;
  const wiring = targetWiring({ s3: { ...store, ...(tls?.insecureSkipVerify === true ? { tls: { insecureSkipVerify: true } } : {}) } }, bootstrap.path);
  const ca = tls?.caSecret;
  const key = bootstrap.encryption?.secretKeyRef;
  return [
    { name: 'FLIGHTDECK_BOOTSTRAP_LOCATION', value: wiring.location },
    ...wiring.env.map((variable) => ({ ...variable })),
    ...(ca === undefined ? [] : [{ name: 'FLIGHTDECK_BOOTSTRAP_CA', valueFrom: { secretKeyRef: { name: ca.name, key: ca.key ?? 'ca.crt' } } }]),
    ...(key === undefined ? [] : [{ name: 'FLIGHTDECK_BOOTSTRAP_KEY', valueFrom: { secretKeyRef: { name: key.name, key: key.key ?? 'key' } } }]),
    { name: 'FLIGHTDECK_ROOT_PASSWORD_HASH', valueFrom: { secretKeyRef: { name: names.credentialsSecret, key: credentialKeys.rootPasswordHash } } },
    { name: 'FLIGHTDECK_INITDB_SQL', valueFrom: { secretKeyRef: { name: names.credentialsSecret, key: credentialKeys.initdbSql } } },
  ];
}

/** The init container that seeds an empty data directory (seedScript). */
export function seedInitContainer(input: SeedContainersInput): Record<string, unknown> {
  const { managed, names, mounts } = input;
  return {
    name: seedContainerName,
    image: managed.image,
    ...(managed.imagePullPolicy === undefined ? {} : { imagePullPolicy: managed.imagePullPolicy }),
    command: ['bash', '--norc', '--noprofile', '-c', seedScript()],
    env: [
      ...secretEnvironment(names),
      { name: 'FLIGHTDECK_POD_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } },
      // Short names resolve through the pod's search path (its namespace).
      { name: 'FLIGHTDECK_DONOR_DOMAIN', value: names.instancesService },
      ...(managed.bootstrapFrom === undefined ? [] : bootstrapEnvironment(names, managed.bootstrapFrom)),
    ],
    // Preparing a copy is InnoDB recovery: it gets what the server gets.
    ...(managed.resources === undefined ? {} : { resources: managed.resources }),
    volumeMounts: [
      { name: 'data', mountPath: mounts.data },
      { name: 'config', mountPath: mounts.config, readOnly: true },
      { name: 'podinfo', mountPath: podInfoDir, readOnly: true },
    ],
    securityContext,
  };
}

/** The donor endpoint beside mariadbd: same image, same data directory and socket. */
export function donorSidecar(input: SeedContainersInput): Record<string, unknown> {
  const { managed, names, mounts } = input;
  return {
    name: donorContainer.name,
    image: managed.image,
    ...(managed.imagePullPolicy === undefined ? {} : { imagePullPolicy: managed.imagePullPolicy }),
    command: ['bash', '--norc', '--noprofile', '-c', donorListenScript()],
    ports: [{ name: donorContainer.portName, containerPort: donorContainer.port, protocol: 'TCP' }],
    env: secretEnvironment(names),
    volumeMounts: [
      { name: 'data', mountPath: mounts.data },
      { name: 'config', mountPath: mounts.config, readOnly: true },
      { name: 'run', mountPath: mounts.socketDir },
    ],
    securityContext,
  };
}

/** The downward API volume through which the seed init container reads the donor the operator names (updated while it waits). */
export function podInfoVolume(): Record<string, unknown> {
  return {
    name: 'podinfo',
    downwardAPI: { items: [{ path: donorFile, fieldRef: { fieldPath: `metadata.annotations['${seedDonorAnnotation}']` } }] },
  };
}
