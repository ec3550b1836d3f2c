#!/bin/bash
# The work of backup and restore Jobs (flightdeck-backup backup|restore),
# shipped in the MariaDB image. Every input comes from the environment or
# from files (mounted Secrets); none is ever pasted into shell text, and
# SQL built here carries names only as base64 literals or as identifiers
# quoted with their backticks doubled.
#
# Both commands:
#   DB_HOST, DB_PORT, DB_USER, DB_PASSWORD_FILE   the account to use (a file, so the password is in no argv)
#   LOCATION        an rclone path of the run's directory, e.g. target:bucket/prefix/ns/name/20261202T030000Z;
#                   the remote "target" is configured by RCLONE_CONFIG_TARGET_* variables (s3 or local)
#   ENCRYPTION_KEY_FILE   optional: AES-256 key material (a mounted Secret key)
#   RESULT_FILE     optional: where a one-line JSON result goes (a pod's terminationMessagePath)
# Exit status: 0 done, 1 failed (a retry may help), 2 refused (a retry cannot help).
# backup:
#   BACKUP_ID       the run's id (UTC due time, YYYYMMDDTHHMMSSZ)
#   BACKUP_DATABASES   names, one per line; empty = every database the account sees but the system ones
#   BACKUP_COMPRESSION gzip | zstd | none
# restore:
#   RESTORE_DATABASES  "from<TAB>to" lines; empty = every database of the backup under its own name
#   RESTORE_OVERWRITE  "true" lets a restore drop a non-empty target database first
#
# A backup writes data.sql[.gz|.zst][.enc] and then manifest.json, last: a
# run directory without manifest.json is an interrupted run, never a backup.
# A restore verifies the stored object's sha256 against the manifest before it
# touches any database, and the restored tables' row counts and CHECKSUM TABLE
# values after.
set -euo pipefail
umask 077

manifestFormat=1
work="$(mktemp -d "${TMPDIR:-/tmp}/flightdeck-backup.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The result for the operator: one JSON line on stdout and in RESULT_FILE.
result() {
  printf '%s\n' "$1"
  if [[ -n "${RESULT_FILE:-}" ]]; then printf '%s' "$1" >"$RESULT_FILE"; fi
}

# Exit 2: retrying cannot help (the Job's podFailurePolicy fails at once); 1: it may.
fail() {
  local reason="$1" message="$2" code=1
  case "$reason" in
    InvalidInput | TargetNotEmpty | KeyRequired | ChecksumMismatch | DatabaseNotFound | DatabaseNotInBackup | InvalidBackup | BackupNotFound | NothingToBackUp | VerificationFailed) code=2 ;;
  esac
  echo "flightdeck-backup: $reason: $message" >&2
  result "$(jq -cn --arg reason "$reason" --arg message "$message" '{result: "Failed", reason: $reason, message: $message}')"
  exit "$code"
}

require() {
  local name="$1"
  if [[ -z "${!name:-}" ]]; then fail InvalidInput "$name is not set"; fi
}

# The password reaches the clients in MYSQL_PWD: never in argv, never in SQL text.
connect() {
  require DB_HOST
  require DB_USER
  require DB_PASSWORD_FILE
  [[ -r "$DB_PASSWORD_FILE" ]] || fail InvalidInput "the password file $DB_PASSWORD_FILE cannot be read"
  MYSQL_PWD="$(cat "$DB_PASSWORD_FILE")"
  export MYSQL_PWD
  client=(--host="$DB_HOST" --port="${DB_PORT:-3306}" --user="$DB_USER" --protocol=tcp)
}

# One query's rows, tab separated, no header.
sql() { mariadb "${client[@]}" --batch --skip-column-names "$@"; }

# A name as an SQL string literal that no name can break out of.
literal() { printf "FROM_BASE64('%s')" "$(printf '%s' "$1" | base64 -w0)"; }
# A name as a quoted identifier: backticks around it, those inside doubled.
identifier() { printf '`%s`' "${1//\`/\`\`}"; }

# Names listed as base64 by the server, decoded here: names may hold tabs or newlines.
decode_lines() {
  local line
  while IFS= read -r line; do
    printf '%s\n' "$(printf '%s' "$line" | base64 -d)"
  done
}

# Base tables of one database, one per line.
tables_of() {
  sql -e "SELECT REPLACE(TO_BASE64(TABLE_NAME), '\n', '') FROM information_schema.TABLES
          WHERE TABLE_SCHEMA = $(literal "$1") AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME" | decode_lines
}

# Row count and CHECKSUM TABLE of every base table of the given databases, as a
# JSON array, read in one consistent snapshot; BINLOG_SNAPSHOT gets the binary
# log coordinates of that snapshot ("" without a binary log).
table_facts() {
  local db table names=() query="START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY;
SELECT CONCAT(IFNULL(MAX(IF(VARIABLE_NAME = 'BINLOG_SNAPSHOT_FILE', VARIABLE_VALUE, NULL)), ''), ':',
              IFNULL(MAX(IF(VARIABLE_NAME = 'BINLOG_SNAPSHOT_POSITION', VARIABLE_VALUE, NULL)), ''))
  FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME IN ('BINLOG_SNAPSHOT_FILE', 'BINLOG_SNAPSHOT_POSITION');"
  for db in "$@"; do
    while IFS= read -r table; do
      [[ -n "$table" ]] || continue
      names+=("$db" "$table")
      query+="
SELECT COUNT(*) FROM $(identifier "$db").$(identifier "$table");
CHECKSUM TABLE $(identifier "$db").$(identifier "$table");"
    done < <(tables_of "$db")
  done
  query+=$'\nCOMMIT;'
  printf '%s\n' "$query" | sql >"$work/facts" 2>"$work/facts.err" ||
    fail CountingFailed "counting rows and checksums: $(tail -c 1500 "$work/facts.err" | tr '\n' ' ')"
  local lines=()
  mapfile -t lines <"$work/facts"
  BINLOG_SNAPSHOT="${lines[0]:-:}"
  local i=0 facts='[]' rows checksum
  while ((i < ${#names[@]})); do
    rows="${lines[1 + i]}"
    checksum="${lines[2 + i]##*$'\t'}"
    facts="$(jq -c --arg database "${names[i]}" --arg table "${names[i + 1]}" --arg rows "$rows" --arg checksum "$checksum" \
      '. + [{database: $database, table: $table, rows: ($rows | tonumber), checksum: $checksum}]' <<<"$facts")"
    i=$((i + 2))
  done
  TABLE_FACTS="$facts"
}

compressor() {
  case "$1" in
    gzip) gzip -c ;;
    zstd) zstd -q -c -T0 ;;
    none) cat ;;
  esac
}

decompressor() {
  case "$1" in
    gzip) gzip -d -c ;;
    zstd) zstd -q -d -c ;;
    none) cat ;;
  esac
}

cipher() {
  if [[ -n "${ENCRYPTION_KEY_FILE:-}" ]]; then
    openssl enc "$@" -aes-256-cbc -pbkdf2 -iter 100000 -md sha256 -pass "file:$ENCRYPTION_KEY_FILE"
  else
    cat
  fi
}

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

backup() {
  require LOCATION
  require BACKUP_ID
  local compression="${BACKUP_COMPRESSION:-gzip}" extension
  case "$compression" in
    gzip) extension=.gz ;;
    zstd) extension=.zst ;;
    none) extension="" ;;
    *) fail InvalidInput "BACKUP_COMPRESSION must be gzip, zstd or none, not $compression" ;;
  esac
  local encrypted=false
  if [[ -n "${ENCRYPTION_KEY_FILE:-}" ]]; then
    [[ -s "$ENCRYPTION_KEY_FILE" ]] || fail InvalidInput "the encryption key file $ENCRYPTION_KEY_FILE is empty or missing"
    encrypted=true
    extension+=.enc
  fi
  connect
  local start databases=()
  start="$(now)"
  if [[ -n "${BACKUP_DATABASES:-}" ]]; then
    mapfile -t databases <<<"$BACKUP_DATABASES"
  else
    mapfile -t databases < <(sql -e "SELECT REPLACE(TO_BASE64(SCHEMA_NAME), '\n', '') FROM information_schema.SCHEMATA
      WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys', 'flightdeck_meta') ORDER BY SCHEMA_NAME" | decode_lines)
  fi
  ((${#databases[@]} > 0)) || fail NothingToBackUp "the account $DB_USER sees no database to back up"
  local db
  for db in "${databases[@]}"; do
    [[ "$(sql -e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = $(literal "$db")")" == 1 ]] ||
      fail DatabaseNotFound "database $db does not exist or the backup account may not see it"
  done

  # With a binary log the dump records its position (GTID and file:position)
  # in a comment; without one there is no position to record.
  local position_options=()
  if [[ "$(sql -e 'SELECT @@log_bin')" == 1 ]]; then position_options=(--master-data=2); fi

  local data="data.sql$extension"
  mkfifo "$work/to-sha256" "$work/to-size" "$work/to-header"
  sha256sum <"$work/to-sha256" | cut -d' ' -f1 >"$work/sha256" &
  local sha_pid=$!
  wc -c <"$work/to-size" >"$work/size" &
  local size_pid=$!
  # The dump's header names its position; the rest of the stream is read and dropped.
  { head -n 60 >"$work/header"; cat >/dev/null; } <"$work/to-header" &
  local header_pid=$!
  # One pass: dump | compress | encrypt | (sha256, size) | upload.
  if ! mariadb-dump "${client[@]}" --single-transaction --quick --hex-blob --routines --triggers --events \
    "${position_options[@]}" --databases "${databases[@]}" 2>"$work/dump.err" |
    tee "$work/to-header" | compressor "$compression" | cipher -e -salt | tee "$work/to-sha256" "$work/to-size" |
    rclone rcat --quiet "$LOCATION/$data" 2>"$work/upload.err"; then
    wait "$sha_pid" "$size_pid" "$header_pid" || true
    fail BackupFailed "$(tail -c 1500 "$work/dump.err" "$work/upload.err" 2>/dev/null | tr '\n' ' ')"
  fi
  wait "$sha_pid" "$size_pid" "$header_pid"
  # The header names the binary log file and position of the dump's snapshot
  # (its GTID comes only at the end of the stream); the server maps it to a GTID.
  local gtid="" binlog="" file position
  binlog="$(sed -n "s/^-- CHANGE MASTER TO MASTER_LOG_FILE='\([^']*\)', MASTER_LOG_POS=\([0-9]*\);.*/\1:\2/p" "$work/header" | head -n 1)"
  if [[ -n "$binlog" ]]; then
    file="${binlog%:*}"
    position="${binlog##*:}"
    gtid="$(sql -e "SELECT IFNULL(BINLOG_GTID_POS($(literal "$file"), $((position))), '')")" ||
      fail BackupFailed "reading the GTID position of $binlog"
  fi
  table_facts "${databases[@]}"
  # The counts are the dump's when both snapshots saw the same binary log
  # position; otherwise writes may have come between the two.
  local same_snapshot=false
  if [[ -n "$binlog" && "$binlog" == "$BINLOG_SNAPSHOT" ]]; then same_snapshot=true; fi

  local manifest
  manifest="$(jq -n \
    --argjson formatVersion "$manifestFormat" --arg id "$BACKUP_ID" --arg compression "$compression" \
    --argjson encrypted "$encrypted" --arg dataFile "$data" --argjson sizeBytes "$(tr -d ' ' <"$work/size")" \
    --arg sha256 "$(cat "$work/sha256")" --arg gtidPosition "$gtid" --arg binlogPosition "$binlog" \
    --arg startTime "$start" --arg completionTime "$(now)" --argjson tables "$TABLE_FACTS" \
    --argjson tablesFromDumpSnapshot "$same_snapshot" \
    '{formatVersion: $formatVersion, id: $id, databases: $ARGS.positional, compression: $compression, encrypted: $encrypted,
      dataFile: $dataFile, sizeBytes: $sizeBytes, sha256: $sha256, gtidPosition: $gtidPosition, binlogPosition: $binlogPosition,
      startTime: $startTime, completionTime: $completionTime, tablesFromDumpSnapshot: $tablesFromDumpSnapshot, tables: $tables}' \
    --args "${databases[@]}")"
  # Last: its presence is what makes the run a backup.
  printf '%s\n' "$manifest" | rclone rcat --quiet "$LOCATION/manifest.json" 2>"$work/upload.err" ||
    fail BackupFailed "writing manifest.json: $(tail -c 1500 "$work/upload.err" | tr '\n' ' ')"
  result "$(jq -c '{result: "Completed", id, sizeBytes, sha256, gtidPosition, startTime, completionTime, databases}' <<<"$manifest")"
}

restore() {
  require LOCATION
  connect
  local manifest
  manifest="$(rclone cat "$LOCATION/manifest.json" 2>"$work/download.err")" ||
    fail BackupNotFound "no manifest.json at $LOCATION (an interrupted run is not a backup): $(tail -c 800 "$work/download.err" | tr '\n' ' ')"
  [[ "$(jq -r .formatVersion <<<"$manifest")" == "$manifestFormat" ]] || fail InvalidBackup "manifest format $(jq -r .formatVersion <<<"$manifest") is not $manifestFormat"
  local data compression encrypted
  data="$(jq -r .dataFile <<<"$manifest")"
  compression="$(jq -r .compression <<<"$manifest")"
  encrypted="$(jq -r .encrypted <<<"$manifest")"
  [[ "$data" =~ ^data\.sql(\.gz|\.zst)?(\.enc)?$ ]] || fail InvalidBackup "unexpected data file name in the manifest"
  if [[ "$encrypted" == true && -z "${ENCRYPTION_KEY_FILE:-}" ]]; then fail KeyRequired "the backup is encrypted; give the key"; fi
  if [[ "$encrypted" != true ]]; then unset ENCRYPTION_KEY_FILE; fi

  # Which databases go where: from<TAB>to, default every one under its own name.
  local -A target_of=()
  local line from to
  if [[ -n "${RESTORE_DATABASES:-}" ]]; then
    while IFS=$'\t' read -r from to; do
      [[ -n "$from" ]] || continue
      jq -e --arg from "$from" '.databases | index($from) != null' <<<"$manifest" >/dev/null ||
        fail DatabaseNotInBackup "database $from is not in backup $(jq -r .id <<<"$manifest")"
      target_of["$from"]="${to:-$from}"
    done <<<"$RESTORE_DATABASES"
  else
    while IFS= read -r from; do target_of["$from"]="$from"; done < <(jq -r '.databases[]' <<<"$manifest")
  fi

  # Download and verify before touching any database.
  rclone copyto --quiet "$LOCATION/$data" "$work/$data" 2>"$work/download.err" ||
    fail BackupNotFound "cannot download $data: $(tail -c 800 "$work/download.err" | tr '\n' ' ')"
  local expected actual
  expected="$(jq -r .sha256 <<<"$manifest")"
  actual="$(sha256sum "$work/$data" | cut -d' ' -f1)"
  [[ "$actual" == "$expected" ]] || fail ChecksumMismatch "$data has sha256 $actual, the manifest says $expected"

  # A target with tables is refused unless overwrite; with it, dropped first.
  local tables
  for from in "${!target_of[@]}"; do
    to="${target_of[$from]}"
    tables="$(sql -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = $(literal "$to")")"
    if ((tables > 0)); then
      [[ "${RESTORE_OVERWRITE:-false}" == true ]] ||
        fail TargetNotEmpty "database $to has $tables tables; set overwrite to replace them"
    fi
  done
  if [[ "${RESTORE_OVERWRITE:-false}" == true ]]; then
    for to in "${target_of[@]}"; do sql -e "DROP DATABASE IF EXISTS $(identifier "$to")"; done
  fi

  # The dump names each database in "-- Current Database:", CREATE DATABASE
  # and USE lines of its own (row data never starts a line: mariadb-dump
  # escapes newlines in values); these are renamed, and the sections of
  # databases not asked for are left out.
  local mapping=""
  for from in "${!target_of[@]}"; do mapping+="$(identifier "$from")"$'\t'"$(identifier "${target_of[$from]}")"$'\n'; done
  export FLIGHTDECK_MAPPING="$mapping"
  cipher -d <"$work/$data" | decompressor "$compression" | awk '
    BEGIN {
      n = split(ENVIRON["FLIGHTDECK_MAPPING"], pairs, "\n")
      for (i = 1; i <= n; i++) if (pairs[i] != "") { split(pairs[i], p, "\t"); target[p[1]] = p[2] }
      keep = 1
    }
    /^-- Current Database: `/ {
      name = substr($0, 22)
      keep = (name in target)
      if (keep) print "-- Current Database: " target[name]
      next
    }
    !keep { next }
    /^CREATE DATABASE \/\*!32312 IF NOT EXISTS\*\/ `/ {
      for (name in target) {
        prefix = "CREATE DATABASE /*!32312 IF NOT EXISTS*/ " name " "
        if (substr($0, 1, length(prefix)) == prefix) { print "CREATE DATABASE /*!32312 IF NOT EXISTS*/ " target[name] " " substr($0, length(prefix) + 1); next }
      }
    }
    /^USE `/ {
      name = substr($0, 5, length($0) - 5)
      if (name in target) { print "USE " target[name] ";"; next }
    }
    { print }
  ' | mariadb "${client[@]}" --binary-mode 2>"$work/load.err" ||
    fail RestoreFailed "loading the dump: $(tail -c 1500 "$work/load.err" | tr '\n' ' ')"

  # Verify: every table of the backup is there with its rows and checksum.
  local targets=()
  for to in "${target_of[@]}"; do targets+=("$to"); done
  table_facts "${targets[@]}"
  local mapping_json
  mapping_json="$(for from in "${!target_of[@]}"; do jq -cn --arg from "$from" --arg to "${target_of[$from]}" '{($from): $to}'; done | jq -cs 'add')"
  local report
  report="$(jq -c --argjson restored "$TABLE_FACTS" --argjson to "$mapping_json" '
    [.tables[] | select(.database as $d | $to | has($d)) | . + {database: $to[.database]}] as $expected
    | ($restored | map({key: "\(.database)\u0000\(.table)", value: .}) | from_entries) as $got
    | {
        mismatches: [$expected[] | "\(.database)\u0000\(.table)" as $k
          | select(($got[$k] == null) or ($got[$k].rows != .rows) or ($got[$k].checksum != .checksum))
          | "\(.database).\(.table): backup \(.rows) rows checksum \(.checksum), restored \($got[$k].rows // "none") rows checksum \($got[$k].checksum // "none")"],
        restored: [$restored | group_by(.database)[] | {database: .[0].database, tables: length, rows: (map(.rows) | add)}]
      }' <<<"$manifest")"
  local mismatches
  mismatches="$(jq -r '.mismatches | join("; ")' <<<"$report")"
  if [[ -n "$mismatches" ]]; then
    if [[ "$(jq -r .tablesFromDumpSnapshot <<<"$manifest")" == true ]]; then
      fail VerificationFailed "restored tables differ from the backup: $mismatches"
    fi
    # Counted after the dump, not in its snapshot: writes in between explain a difference.
    result "$(jq -c --arg id "$(jq -r .id <<<"$manifest")" --arg warning "$mismatches" \
      '{result: "Completed", id: $id, restored, warning: ("counted after the dump, may differ from it: " + $warning)}' <<<"$report")"
    return
  fi
  result "$(jq -c --arg id "$(jq -r .id <<<"$manifest")" '{result: "Completed", id: $id, restored, verified: true}' <<<"$report")"
}

case "${1:-}" in
  backup) backup ;;
  restore) restore ;;
  *) fail InvalidInput "usage: flightdeck-backup backup|restore" ;;
esac
