#!/bin/bash
# The work of backup and restore Jobs (flightdeck-backup backup, restore, physical-backup, physical-fetch),
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
#   PRUNE_RUNS      optional (a PVC target): ids of this backup's runs, one per line, that retention deletes
#                   once this run has succeeded (the operator decides; it cannot mount the volume); see prune_runs
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
# Sessions reading table facts in the background (start_table_facts); a run
# that fails while they read stops them.
facts_pids=()
trap 'if ((${#facts_pids[@]} > 0)); then kill "${facts_pids[@]}" 2>/dev/null || true; fi; rm -rf "$work"' EXIT

# The result for the operator: one JSON line on stdout and in RESULT_FILE.
result() {
  printf '%s\n' "$1"
  if [[ -n "${RESULT_FILE:-}" ]]; then printf '%s' "$1" >"$RESULT_FILE"; fi
}

# Exit 2: retrying cannot help (the Job's podFailurePolicy fails at once); 1: it may.
fail() {
  local reason="$1" message="$2" code=1
  case "$reason" in
    InvalidInput | TargetNotEmpty | KeyRequired | ChecksumMismatch | DatabaseNotFound | DatabaseNotInBackup | InvalidBackup | BackupNotFound | NothingToBackUp | VerificationFailed | SourceNotFound | RestoreConflict | DonorRefused) code=2 ;;
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

# Row counts and CHECKSUM TABLE values ("table facts") of base tables. A
# session reads its tables in one consistent snapshot, in the background,
# into $work/facts.N (its binary log coordinates first, "" without a binary
# log; then a count line and a checksum line per table), the names it read
# into $work/facts.N.names (NUL-separated database, table pairs). A backup
# starts its one session before the dump and so pays for it while gzip
# works; a restore spreads the tables over a session per core, since nothing
# else runs then. finish_table_facts waits for them all.
facts_sessions=0

# start_table_facts DB TABLE [DB TABLE …]: one more session over those tables.
start_table_facts() {
  local n=$facts_sessions query="START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY;
SELECT CONCAT(IFNULL(MAX(IF(VARIABLE_NAME = 'BINLOG_SNAPSHOT_FILE', VARIABLE_VALUE, NULL)), ''), ':',
              IFNULL(MAX(IF(VARIABLE_NAME = 'BINLOG_SNAPSHOT_POSITION', VARIABLE_VALUE, NULL)), ''))
  FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME IN ('BINLOG_SNAPSHOT_FILE', 'BINLOG_SNAPSHOT_POSITION');"
  : >"$work/facts.$n.names"
  while (($# >= 2)); do
    printf '%s\0%s\0' "$1" "$2" >>"$work/facts.$n.names"
    query+="
SELECT COUNT(*) FROM $(identifier "$1").$(identifier "$2");
CHECKSUM TABLE $(identifier "$1").$(identifier "$2");"
    shift 2
  done
  query+=$'\nCOMMIT;'
  printf '%s\n' "$query" >"$work/facts.$n.sql"
  # The client itself in the background (not a pipeline), so that $! is its pid for the EXIT trap.
  mariadb "${client[@]}" --batch --skip-column-names <"$work/facts.$n.sql" >"$work/facts.$n" 2>"$work/facts.$n.err" &
  facts_pids+=($!)
  facts_sessions=$((n + 1))
}

# Base tables of the given databases as "DB TABLE" argument pairs in TABLE_PAIRS.
list_tables() {
  local db table
  TABLE_PAIRS=()
  for db in "$@"; do
    while IFS= read -r table; do
      if [[ -n "$table" ]]; then TABLE_PAIRS+=("$db" "$table"); fi
    done < <(tables_of "$db")
  done
}

# Starts sessions over the base tables of the given databases, one per core
# (at most 4): largest table first, each onto the session with the fewest
# bytes so far.
start_spread_table_facts() {
  local cores sessions i best size db table pairs=()
  cores="$(nproc 2>/dev/null || echo 1)"
  sessions=$((cores < 4 ? cores : 4))
  local bytes=()
  for ((i = 0; i < sessions; i++)); do
    bytes[i]=0
    : >"$work/spread.$i"
  done
  while IFS=$'\t' read -r size db table; do
    best=0
    for ((i = 1; i < sessions; i++)); do
      if ((bytes[i] < bytes[best])); then best=$i; fi
    done
    bytes[best]=$((bytes[best] + size))
    printf '%s\0%s\0' "$(printf '%s' "$db" | base64 -d)" "$(printf '%s' "$table" | base64 -d)" >>"$work/spread.$best"
  done < <(for db in "$@"; do
    sql -e "SELECT IFNULL(DATA_LENGTH + INDEX_LENGTH, 0), REPLACE(TO_BASE64(TABLE_SCHEMA), '\n', ''), REPLACE(TO_BASE64(TABLE_NAME), '\n', '')
            FROM information_schema.TABLES WHERE TABLE_SCHEMA = $(literal "$db") AND TABLE_TYPE = 'BASE TABLE'"
  done | sort -t $'\t' -k1,1nr)
  for ((i = 0; i < sessions; i++)); do
    mapfile -d '' -t pairs <"$work/spread.$i"
    if ((${#pairs[@]} > 0)); then start_table_facts "${pairs[@]}"; fi
  done
}

# Waits for every session; TABLE_FACTS gets the facts as a JSON array,
# BINLOG_SNAPSHOT the first session's coordinates.
finish_table_facts() {
  local n pid
  for n in "${!facts_pids[@]}"; do
    pid="${facts_pids[n]}"
    wait "$pid" || fail CountingFailed "counting rows and checksums: $(tail -c 1500 "$work/facts.$n.err" | tr '\n' ' ')"
  done
  local facts='[]' lines names i rows checksum
  BINLOG_SNAPSHOT=""
  for ((n = 0; n < facts_sessions; n++)); do
    mapfile -t lines <"$work/facts.$n"
    mapfile -d '' -t names <"$work/facts.$n.names"
    if ((n == 0)); then BINLOG_SNAPSHOT="${lines[0]:-:}"; fi
    for ((i = 0; i < ${#names[@]}; i += 2)); do
      rows="${lines[1 + i]}"
      checksum="${lines[2 + i]##*$'\t'}"
      facts="$(jq -c --arg database "${names[i]}" --arg table "${names[i + 1]}" --arg rows "$rows" --arg checksum "$checksum" \
        '. + [{database: $database, table: $table, rows: ($rows | tonumber), checksum: $checksum}]' <<<"$facts")"
    done
  done
  facts_pids=()
  facts_sessions=0
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

# What interrupted attempts left goes before this attempt writes. On a
# volume target only this can remove it (the operator does not mount
# volumes); on S3 the operator removes the same itself and also aborts
# unfinished multipart uploads. Removed: this run's own folder (an earlier
# attempt's partial data: the operator retries only a run that did not
# succeed), and the folders of this backup's older runs that hold no
# manifest.json (a backup runs one run at a time, so none is being written).
# A folder whose name is no run id, a newer run's, or one with a manifest is
# never touched.
clear_leftovers() {
  local parent="${LOCATION%/*}" listing manifests run status=0
  listing="$(rclone lsf --dirs-only "$parent" 2>"$work/clear.err")" || status=$?
  # 3: the backup's folder does not exist yet, so nothing was left in it.
  if ((status == 3)); then return 0; fi
  ((status == 0)) || fail BackupFailed "listing $parent for leftovers of interrupted runs: $(tail -c 800 "$work/clear.err" | tr '\n' ' ')"
  manifests="$(rclone lsf --recursive --files-only --include '*/manifest.json' "$parent" 2>"$work/clear.err")" ||
    fail BackupFailed "listing the manifests in $parent: $(tail -c 800 "$work/clear.err" | tr '\n' ' ')"
  while IFS= read -r run; do
    run="${run%/}"
    [[ "$run" =~ ^[0-9]{8}T[0-9]{6}Z$ ]] || continue
    [[ "$run" == "$BACKUP_ID" || "$run" < "$BACKUP_ID" ]] || continue
    if [[ "$run" != "$BACKUP_ID" ]] && grep -qxF "$run/manifest.json" <<<"$manifests"; then continue; fi
    rclone purge --quiet "$parent/$run" 2>"$work/clear.err" ||
      fail BackupFailed "removing the leftovers of an interrupted run in $parent/$run: $(tail -c 800 "$work/clear.err" | tr '\n' ' ')"
    echo "flightdeck-backup: removed what an interrupted run left in $parent/$run" >&2
  done <<<"$listing"
}

# Deletes the runs PRUNE_RUNS names, called only once this run's
# manifest.json is written: each id must be a run id, never this run's own,
# and names a folder directly in this backup's folder. Of each, manifest.json
# goes first and then the folder, so that a prune cut off half-way leaves a
# folder without manifest, which is no backup (and which clear_leftovers of a
# later run removes). A folder already gone counts as pruned. Stops at the
# first failed deletion. Never fails the run, whose backup is complete:
# PRUNED gets the ids deleted (a JSON array), PRUNE_ERROR why no more ("" if
# none), and with_pruning adds both to the result line.
PRUNED='[]'
PRUNE_ERROR=''
prune_runs() {
  [[ -n "${PRUNE_RUNS:-}" ]] || return 0
  local parent="${LOCATION%/*}" listing run refused=()
  if ! listing="$(rclone lsf --dirs-only "$parent" 2>"$work/prune.err")"; then
    PRUNE_ERROR="listing $parent: $(tail -c 300 "$work/prune.err" | tr '\n' ' ')"
    return 0
  fi
  while IFS= read -r run; do
    [[ -n "$run" ]] || continue
    if [[ ! "$run" =~ ^[0-9]{8}T[0-9]{6}Z$ ]]; then
      refused+=("$(printf '%q' "${run:0:40}") (not a run id)")
      continue
    fi
    if [[ "$run" == "$BACKUP_ID" ]]; then
      refused+=("$run (this run's own)")
      continue
    fi
    if grep -qxF "$run/" <<<"$listing"; then
      if ! rclone delete --quiet --max-depth 1 --include /manifest.json "$parent/$run" 2>"$work/prune.err"; then
        PRUNE_ERROR="deleting $parent/$run/manifest.json: $(tail -c 300 "$work/prune.err" | tr '\n' ' ')"
        break
      fi
      if ! rclone purge --quiet "$parent/$run" 2>"$work/prune.err"; then
        PRUNE_ERROR="deleting $parent/$run (its manifest.json is gone): $(tail -c 300 "$work/prune.err" | tr '\n' ' ')"
        break
      fi
      echo "flightdeck-backup: retention deleted $parent/$run" >&2
    fi
    PRUNED="$(jq -c --arg id "$run" '. + [$id]' <<<"$PRUNED")"
  done <<<"$PRUNE_RUNS"
  if ((${#refused[@]} > 0)); then
    local why
    why="refused to prune ${refused[*]}"
    PRUNE_ERROR="${PRUNE_ERROR:+$PRUNE_ERROR; }$why"
  fi
  # The result line must fit a termination message (4 KiB).
  PRUNE_ERROR="${PRUNE_ERROR:0:600}"
  if [[ -n "$PRUNE_ERROR" ]]; then echo "flightdeck-backup: pruning: $PRUNE_ERROR" >&2; fi
}

# A result line (stdin) with what prune_runs did, when it had runs to prune.
with_pruning() {
  if [[ -z "${PRUNE_RUNS:-}" ]]; then
    cat
    return
  fi
  jq -c --argjson pruned "$PRUNED" --arg error "$PRUNE_ERROR" '. + {pruned: $pruned} + (if $error == "" then {} else {pruneError: $error} end)'
}

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

  clear_leftovers
  # The facts are read while the dump runs: both snapshots start together,
  # and the server's checksums overlap the single-threaded compression.
  list_tables "${databases[@]}"
  start_table_facts "${TABLE_PAIRS[@]}"
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
  finish_table_facts
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
  prune_runs
  result "$(jq -c '{result: "Completed", id, sizeBytes, sha256, gtidPosition, startTime, completionTime, databases}' <<<"$manifest" | with_pruning)"
}

restore() {
  require LOCATION
  connect
  local manifest
  manifest="$(rclone cat "$LOCATION/manifest.json" 2>"$work/download.err")" ||
    fail BackupNotFound "no manifest.json at $LOCATION (an interrupted run is not a backup): $(tail -c 800 "$work/download.err" | tr '\n' ' ')"
  [[ "$(jq -r .formatVersion <<<"$manifest")" == "$manifestFormat" ]] || fail InvalidBackup "manifest format $(jq -r .formatVersion <<<"$manifest") is not $manifestFormat"
  local data compression encrypted
  [[ "$(jq -r '.kind // "logical"' <<<"$manifest")" == logical ]] ||
    fail InvalidBackup "a physical backup (mariadb-backup) is not restored into databases: bootstrap a new managed cluster from it (spec.bootstrapFrom)"
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

  # Download and verify before touching any database; the hash is taken as the bytes arrive.
  rclone cat "$LOCATION/$data" 2>"$work/download.err" | tee "$work/$data" | sha256sum | cut -d' ' -f1 >"$work/sha256" ||
    fail BackupNotFound "cannot download $data: $(tail -c 800 "$work/download.err" | tr '\n' ' ')"
  local expected actual
  expected="$(jq -r .sha256 <<<"$manifest")"
  actual="$(cat "$work/sha256")"
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
  # Every database of the backup under its own name needs no renaming (and
  # saves the filter's pass over the dump).
  local mapping="" renamed=false
  for from in "${!target_of[@]}"; do
    mapping+="$(identifier "$from")"$'\t'"$(identifier "${target_of[$from]}")"$'\n'
    if [[ "${target_of[$from]}" != "$from" ]]; then renamed=true; fi
  done
  if ((${#target_of[@]} != $(jq '.databases | length' <<<"$manifest"))); then renamed=true; fi
  export FLIGHTDECK_MAPPING="$mapping"
  cipher -d <"$work/$data" | decompressor "$compression" | if [[ "$renamed" == false ]]; then cat; else awk '
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
  '; fi | mariadb "${client[@]}" --binary-mode 2>"$work/load.err" ||
    fail RestoreFailed "loading the dump: $(tail -c 1500 "$work/load.err" | tr '\n' ' ')"

  # Verify: every table of the backup is there with its rows and checksum.
  local targets=()
  for to in "${target_of[@]}"; do targets+=("$to"); done
  start_spread_table_facts "${targets[@]}"
  finish_table_facts
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

# ---------------------------------------------------------------- physical backups
#
# physical-backup (a managed cluster; no database account, no SQL):
#   DONOR_HOST, DONOR_PORT   the donor endpoint of the instance to copy (the pod's donor
#                            sidecar, src/controllers/cluster/managed/builders/seed.ts)
#   DONOR_INSTANCE, DONOR_ROLE   which instance that is (reader | writer), for the manifest
#   FLIGHTDECK_SEED_SECRET   the cluster's replication password: the secret of the donor's
#                            proof, which never crosses the network
#   BACKUP_ID, BACKUP_COMPRESSION   as for backup
# Writes data.xbstream[.gz|.zst][.enc] (mariadb-backup --stream=mbstream, as the
# donor sends it) and then manifest.json (kind physical), last.
#
# physical-fetch DIR (the seed init container of a cluster bootstrapped from a backup):
#   LOCATION, ENCRYPTION_KEY_FILE   the run's directory and its key
# Extracts the backup into DIR while hashing what it downloads; the copy is
# used (prepared) only when the hash is the manifest's. Prints the manifest.

# Reads an mbstream on stdin (to its end, always: it sits behind a tee) and
# leaves in $1 the binary log coordinates the copy ends at (the content of
# xtrabackup_binlog_info, mariadb_backup_binlog_info in later versions), and
# "complete" in $2 when the stream ended on a chunk boundary after both that
# file and xtrabackup_checkpoints, which mariadb-backup streams last: a donor
# whose mariadb-backup failed midway just closes the connection.
# Chunk layout: "XBSTCK01", flags (1 byte), type (1: P payload, E end of file),
# path length (uint32 LE), path; payload chunks then have length and offset
# (uint64 LE), a CRC32 (4 bytes) and the payload.
stream_facts() {
  perl -e '
    use strict; use warnings;
    my ($info_file, $status_file) = @ARGV;
    binmode STDIN;
    my ($info, $checkpoints, $broken) = ("", 0, "");
    sub take { my ($n) = @_; my $buf = ""; while (length($buf) < $n) { my $got = read(STDIN, $buf, $n - length($buf), length($buf)); return undef if !$got; } return $buf; }
    while (1) {
      my $magic = take(8);
      last if !defined $magic;
      if ($magic ne "XBSTCK01") { $broken = "not an mbstream"; last; }
      my $head = take(6); if (!defined $head) { $broken = "cut short"; last; }
      my ($flags, $type, $len) = unpack("a a V", $head);
      my $path = take($len); if (!defined $path) { $broken = "cut short"; last; }
      next if $type eq "E";
      if ($type ne "P") { $broken = "unknown chunk type"; last; }
      my $sizes = take(20); if (!defined $sizes) { $broken = "cut short"; last; }
      my ($size, $offset) = unpack("Q< Q<", $sizes);
      my $payload = "";
      my $left = $size;
      while ($left > 0) { my $part = take($left > 1048576 ? 1048576 : $left); if (!defined $part) { $broken = "cut short"; last; } $left -= length($part); $payload = $part if $path =~ m{(^|/)(xtrabackup|mariadb_backup)_binlog_info$}; }
      last if $broken ne "";
      if ($path =~ m{(^|/)(xtrabackup|mariadb_backup)_binlog_info$}) { $info = $payload; }
      if ($path =~ m{(^|/)xtrabackup_checkpoints$}) { $checkpoints = 1; }
    }
    1 while read(STDIN, my $drain, 1048576);
    open(my $out, ">", $info_file) or die "$info_file: $!"; print $out $info; close $out;
    open(my $st, ">", $status_file) or die "$status_file: $!";
    print $st ($broken ne "" ? $broken : ($info ne "" && $checkpoints) ? "complete" : "no binlog position or checkpoints");
    close $st;
  ' "$1" "$2"
}

# The extension a compression gives a data file, or a refusal.
extension_of() {
  case "$1" in
    gzip) printf '.gz' ;;
    zstd) printf '.zst' ;;
    none) printf '' ;;
    *) fail InvalidInput "BACKUP_COMPRESSION must be gzip, zstd or none, not $1" ;;
  esac
}

physical_backup() {
  require LOCATION
  require BACKUP_ID
  require DONOR_HOST
  require FLIGHTDECK_SEED_SECRET
  local compression="${BACKUP_COMPRESSION:-gzip}" extension encrypted=false
  extension="$(extension_of "$compression")" || exit $?
  if [[ -n "${ENCRYPTION_KEY_FILE:-}" ]]; then
    [[ -s "$ENCRYPTION_KEY_FILE" ]] || fail InvalidInput "the encryption key file $ENCRYPTION_KEY_FILE is empty or missing"
    encrypted=true
    extension+=.enc
  fi
  local start donor="$DONOR_HOST:${DONOR_PORT:-3307}"
  start="$(now)"
  exec 3<>"/dev/tcp/$DONOR_HOST/${DONOR_PORT:-3307}" || fail DonorUnreachable "cannot connect to the donor endpoint $donor"
  local banner version nonce proof answer what
  IFS=' ' read -r -t 30 banner version nonce <&3 || fail DonorUnreachable "no greeting from the donor endpoint $donor"
  [[ "$banner $version" == 'flightdeck-donor 1' ]] || fail DonorUnreachable "$donor is no donor endpoint"
  # printf is a builtin: the secret is in no process's arguments.
  proof="$(printf '%s:%s' "$nonce" "$FLIGHTDECK_SEED_SECRET" | sha256sum)"
  printf '%s backup\n' "${proof%% *}" >&3
  IFS=' ' read -r -t 30 answer what <&3 || fail DonorUnreachable "no answer from the donor endpoint $donor"
  [[ "$answer $what" == "ok backup" ]] || fail DonorRefused "the donor endpoint $donor refused the copy: $answer (is the replication password the cluster's?)"

  local data="data.xbstream$extension"
  mkfifo "$work/to-sha256" "$work/to-size" "$work/to-facts" "$work/to-raw-size"
  sha256sum <"$work/to-sha256" | cut -d' ' -f1 >"$work/sha256" &
  local sha_pid=$!
  wc -c <"$work/to-size" >"$work/size" &
  local size_pid=$!
  wc -c <"$work/to-raw-size" >"$work/raw-size" &
  local raw_pid=$!
  stream_facts "$work/binlog-info" "$work/stream-status" <"$work/to-facts" &
  local facts_pid=$!
  # One pass: copy | compress | encrypt | (sha256, size) | upload.
  if ! tee "$work/to-facts" "$work/to-raw-size" <&3 | compressor "$compression" | cipher -e -salt |
    tee "$work/to-sha256" "$work/to-size" | rclone rcat --quiet "$LOCATION/$data" 2>"$work/upload.err"; then
    wait "$sha_pid" "$size_pid" "$raw_pid" "$facts_pid" || true
    fail BackupFailed "storing the copy from $donor: $(tail -c 1500 "$work/upload.err" 2>/dev/null | tr '\n' ' ')"
  fi
  exec 3<&-
  wait "$sha_pid" "$size_pid" "$raw_pid" "$facts_pid" || fail BackupFailed "reading the copy from $donor failed"
  local status
  status="$(cat "$work/stream-status")"
  # A stored object without manifest is no backup: nothing else to undo.
  [[ "$status" == complete ]] || fail BackupFailed "the copy from $donor is incomplete ($status): its mariadb-backup failed or the connection broke; see the donor container's log"
  # "file<TAB>position<TAB>gtid" (the GTID field is absent without a binary log).
  local file position gtid
  IFS=$'\t' read -r file position gtid <"$work/binlog-info" || true
  gtid="$(tr -d ' \n' <<<"${gtid:-}")"
  [[ "$gtid" =~ ^([0-9]+-[0-9]+-[0-9]+(,[0-9]+-[0-9]+-[0-9]+)*)?$ ]] || fail BackupFailed "the copy has an unreadable GTID position: $gtid"

  local manifest
  manifest="$(jq -n \
    --argjson formatVersion "$manifestFormat" --arg id "$BACKUP_ID" --arg compression "$compression" \
    --argjson encrypted "$encrypted" --arg dataFile "$data" --argjson sizeBytes "$(tr -d ' ' <"$work/size")" \
    --argjson streamBytes "$(tr -d ' ' <"$work/raw-size")" --arg sha256 "$(cat "$work/sha256")" \
    --arg gtidPosition "$gtid" --arg binlogPosition "${file:-}:${position:-}" \
    --arg sourceInstance "${DONOR_INSTANCE:-$DONOR_HOST}" --arg sourceRole "${DONOR_ROLE:-}" \
    --arg startTime "$start" --arg completionTime "$(now)" \
    '{formatVersion: $formatVersion, kind: "physical", id: $id, compression: $compression, encrypted: $encrypted,
      dataFile: $dataFile, sizeBytes: $sizeBytes, streamBytes: $streamBytes, sha256: $sha256,
      gtidPosition: $gtidPosition, binlogPosition: $binlogPosition,
      sourceInstance: $sourceInstance, sourceRole: $sourceRole, startTime: $startTime, completionTime: $completionTime}')"
  # Last: its presence is what makes the run a backup.
  printf '%s\n' "$manifest" | rclone rcat --quiet "$LOCATION/manifest.json" 2>"$work/upload.err" ||
    fail BackupFailed "writing manifest.json: $(tail -c 1500 "$work/upload.err" | tr '\n' ' ')"
  result "$(jq -c '{result: "Completed", kind, id, sizeBytes, sha256, gtidPosition, startTime, completionTime, sourceInstance, sourceRole}' <<<"$manifest")"
}

# The manifest of the physical backup at LOCATION, checked; refusals say what the run is instead.
physical_manifest() {
  local manifest
  manifest="$(rclone cat "$LOCATION/manifest.json" 2>"$work/download.err")" ||
    fail BackupNotFound "no manifest.json at $LOCATION (no such run, or an interrupted one, which is not a backup): $(tail -c 800 "$work/download.err" | tr '\n' ' ')"
  # rclone cat of a key an S3 store does not have prints nothing and succeeds (it reads the name as a folder).
  [[ -n "$manifest" ]] || fail BackupNotFound "no manifest.json at $LOCATION (no such run, or an interrupted one, which is not a backup)"
  jq -e 'type == "object"' <<<"$manifest" >/dev/null 2>&1 || fail InvalidBackup "manifest.json at $LOCATION is not a JSON object"
  [[ "$(jq -r .formatVersion <<<"$manifest")" == "$manifestFormat" ]] || fail InvalidBackup "manifest format $(jq -r .formatVersion <<<"$manifest") is not $manifestFormat"
  local kind
  kind="$(jq -r '.kind // "logical"' <<<"$manifest")"
  [[ "$kind" == physical ]] ||
    fail InvalidBackup "the backup at $LOCATION is a $kind backup (mariadb-dump); a cluster is bootstrapped only from a physical one (method: physical); restore a logical backup with a MySQLRestore"
  [[ "$(jq -r .dataFile <<<"$manifest")" =~ ^data\.xbstream(\.gz|\.zst)?(\.enc)?$ ]] || fail InvalidBackup "unexpected data file name in the manifest"
  [[ "$(jq -r .sha256 <<<"$manifest")" =~ ^[0-9a-f]{64}$ ]] || fail InvalidBackup "the manifest has no sha256"
  [[ "$(jq -r .compression <<<"$manifest")" =~ ^(gzip|zstd|none)$ ]] || fail InvalidBackup "unknown compression in the manifest"
  printf '%s' "$manifest"
}

physical_fetch() {
  local target="${1:-}"
  [[ -n "$target" && -d "$target" ]] || fail InvalidInput "usage: flightdeck-backup physical-fetch DIRECTORY (an existing, empty data directory)"
  require LOCATION
  local manifest data compression expected
  manifest="$(physical_manifest)" || exit $?
  data="$(jq -r .dataFile <<<"$manifest")"
  compression="$(jq -r .compression <<<"$manifest")"
  expected="$(jq -r .sha256 <<<"$manifest")"
  if [[ "$(jq -r .encrypted <<<"$manifest")" == true ]]; then
    [[ -n "${ENCRYPTION_KEY_FILE:-}" && -s "$ENCRYPTION_KEY_FILE" ]] || fail KeyRequired "the backup at $LOCATION is encrypted; give its key (bootstrapFrom.backup.encryption)"
  else
    unset ENCRYPTION_KEY_FILE
  fi
  mkfifo "$work/to-sha256"
  sha256sum <"$work/to-sha256" | cut -d' ' -f1 >"$work/sha256" &
  local sha_pid=$!
  # One pass, without a second copy of the backup on disk: download | (sha256) | decrypt | decompress | extract.
  if ! rclone cat "$LOCATION/$data" 2>"$work/download.err" | tee "$work/to-sha256" | cipher -d | decompressor "$compression" |
    mbstream -x -C "$target" 2>"$work/extract.err"; then
    wait "$sha_pid" || true
    local actual
    actual="$(cat "$work/sha256" 2>/dev/null || true)"
    if [[ -n "$actual" && "$actual" != "$expected" ]]; then fail ChecksumMismatch "$data has sha256 $actual, the manifest says $expected"; fi
    fail BackupFailed "downloading or unpacking $data: $(tail -c 1200 "$work/download.err" "$work/extract.err" 2>/dev/null | tr '\n' ' ')"
  fi
  wait "$sha_pid"
  local actual
  actual="$(cat "$work/sha256")"
  [[ "$actual" == "$expected" ]] || fail ChecksumMismatch "$data has sha256 $actual, the manifest says $expected"
  printf '%s\n' "$manifest"
}

# ---------------------------------------------------------------- files (VolumeBackup, VolumeRestore)
#
# files-backup (no database account; root with DAC_READ_SEARCH alone, so it reads every file and writes none):
#   SOURCE_DIR      the folder to archive: the claim, mounted read-only, plus its subPath
#   LOCATION, BACKUP_ID, BACKUP_COMPRESSION, ENCRYPTION_KEY_FILE, PRUNE_RUNS   as for backup
# Writes files.tar[.gz|.zst][.enc] — a POSIX tar of SOURCE_DIR's folders,
# regular files and symbolic links with numeric owners, modes and
# modification times; no devices, sockets or pipes, no top-level lost+found —
# and then manifest.json (kind files), last.
#
# files-restore (root with CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID):
#   VOLUME_ROOT     where the target claim is mounted
#   TARGET_DIR      the folder to restore into: VOLUME_ROOT or a folder below it (made when missing)
#   RESTORE_OVERWRITE  "true" replaces what TARGET_DIR holds; otherwise a non-empty one is refused, unchanged
#   LOCATION, ENCRYPTION_KEY_FILE
# The archive is downloaded into a staging folder beside TARGET_DIR, on the
# same volume; its sha256 is checked against the manifest, it is extracted
# there and described, and only then are its entries moved into TARGET_DIR
# (renames within one filesystem, keeping TARGET_DIR itself, which pods may
# have mounted). The staging folder records the step reached, so a retried pod
# finishes a move an earlier one began instead of refusing a half-filled target.

# The entries a files backup holds, NUL-separated and sorted: folders, regular
# files and symbolic links below $1, without a top-level lost+found.
files_list() {
  (cd "$1" && find . -mindepth 1 \( -path ./lost+found -prune \) -o \( -type f -o -type d -o -type l \) -print0) | LC_ALL=C sort -z
}

# Describes the folders, regular files and symbolic links below $1 (without
# a top-level lost+found) into $2, one NUL-terminated record each, sorted —
# type, mode, uid:gid, size, modification second, sha256 (of the content, or
# of a link's target), path — and writes "count bytes
# sha256-of-the-description" into $3. Folders have no size (file systems
# differ), links no mode or time (not kept everywhere). Backup and restore
# compute it alike: equal descriptions, equal files. One find and one
# sha256sum for all files: a process per file would take minutes on a site
# with a hundred thousand uploads.
describe_files() {
  local dir="$1" out="$2" stats="$3" record path type mode owner size mtime count bytes
  local -A sums=()
  while IFS= read -r -d '' record; do sums["${record:66}"]="${record:0:64}"; done < <(
    cd "$dir" && find . -mindepth 1 \( -path ./lost+found -prune \) -o -type f -print0 | xargs -0 -r sha256sum -z --
  )
  while IFS=' ' read -r -d '' type mode owner size mtime path; do
    mtime="${mtime%.*}"
    case "$type" in
      f)
        printf 'f %s %s %s %s %s %s\0' "$mode" "$owner" "$size" "$mtime" "${sums[$path]:-unreadable}" "$path"
        ;;
      d) printf 'd %s %s - %s - %s\0' "$mode" "$owner" "$mtime" "$path" ;;
      l) printf 'l - %s - - %s %s\0' "$owner" "$(readlink -- "$dir/$path" | sha256sum | cut -d' ' -f1)" "$path" ;;
    esac
  done < <(cd "$dir" && find . -mindepth 1 \( -path ./lost+found -prune \) -o \( -type f -o -type d -o -type l \) -printf '%y %m %U:%G %s %T@ %p\0') |
    LC_ALL=C sort -z >"$out"
  # Counted from what was written (the loop runs in a pipeline's subshell).
  count="$(tr -cd '\0' <"$out" | wc -c)"
  bytes="$(tr '\0' '\n' <"$out" | awk '$1 == "f" { total += $4 } END { printf "%.0f", total }')"
  printf '%s %s %s\n' "$count" "$bytes" "$(sha256sum <"$out" | cut -d' ' -f1)" >"$stats"
}

files_backup() {
  require LOCATION
  require BACKUP_ID
  require SOURCE_DIR
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
  [[ -d "$SOURCE_DIR" ]] || fail SourceNotFound "$SOURCE_DIR is not a folder on the volume (source.subPath)"
  local start data="files.tar$extension"
  start="$(now)"
  files_list "$SOURCE_DIR" >"$work/list"
  mkfifo "$work/to-sha256" "$work/to-size"
  sha256sum <"$work/to-sha256" | cut -d' ' -f1 >"$work/sha256" &
  local sha_pid=$!
  wc -c <"$work/to-size" >"$work/size" &
  local size_pid=$!
  # One pass: tar | compress | encrypt | (sha256, size) | upload. A file that
  # vanishes after the listing is skipped (--ignore-failed-read); tar's status
  # 1 (a file changed while read) is a live volume, not a failure.
  set +e
  tar --create --file=- --format=posix --numeric-owner --no-recursion --ignore-failed-read --directory="$SOURCE_DIR" --null --files-from="$work/list" 2>"$work/tar.err" |
    compressor "$compression" | cipher -e -salt | tee "$work/to-sha256" "$work/to-size" |
    rclone rcat --quiet "$LOCATION/$data" 2>"$work/upload.err"
  local statuses=("${PIPESTATUS[@]}")
  set -e
  wait "$sha_pid" "$size_pid" || true
  if ((statuses[0] > 1 || statuses[1] != 0 || statuses[2] != 0 || statuses[3] != 0 || statuses[4] != 0)); then
    fail BackupFailed "archiving $SOURCE_DIR (statuses ${statuses[*]}): $(tail -c 1500 "$work/tar.err" "$work/upload.err" 2>/dev/null | tr '\n' ' ')"
  fi
  describe_files "$SOURCE_DIR" "$work/description" "$work/stats"
  local count bytes content
  read -r count bytes content <"$work/stats"
  local manifest
  manifest="$(jq -n \
    --argjson formatVersion "$manifestFormat" --arg id "$BACKUP_ID" --arg compression "$compression" \
    --argjson encrypted "$encrypted" --arg dataFile "$data" --argjson sizeBytes "$(tr -d ' ' <"$work/size")" \
    --arg sha256 "$(cat "$work/sha256")" --argjson fileCount "$count" --argjson contentBytes "$bytes" --arg contentSha256 "$content" \
    --arg startTime "$start" --arg completionTime "$(now)" \
    '{formatVersion: $formatVersion, kind: "files", id: $id, compression: $compression, encrypted: $encrypted, dataFile: $dataFile,
      sizeBytes: $sizeBytes, sha256: $sha256, fileCount: $fileCount, contentBytes: $contentBytes, contentSha256: $contentSha256,
      startTime: $startTime, completionTime: $completionTime}')"
  # Last: its presence is what makes the run a backup.
  printf '%s\n' "$manifest" | rclone rcat --quiet "$LOCATION/manifest.json" 2>"$work/upload.err" ||
    fail BackupFailed "writing manifest.json: $(tail -c 1500 "$work/upload.err" | tr '\n' ' ')"
  prune_runs
  result "$(jq -c '{result: "Completed", id, sizeBytes, sha256, fileCount, contentBytes, contentSha256, startTime, completionTime}' <<<"$manifest" | with_pruning)"
}

# Names in folder $1, NUL-separated, but the staging folder and a top-level lost+found when $1 is the volume's top.
folder_entries() {
  local dir="$1" name
  find "$dir" -mindepth 1 -maxdepth 1 -printf '%f\0' | while IFS= read -r -d '' name; do
    if [[ "$dir" == "$VOLUME_ROOT" && ("$name" == lost+found || "$name" == .flightdeck-restore) ]]; then continue; fi
    printf '%s\0' "$name"
  done
}

files_restore() {
  require LOCATION
  require VOLUME_ROOT
  require TARGET_DIR
  case "$TARGET_DIR" in
    "$VOLUME_ROOT" | "$VOLUME_ROOT"/*) ;;
    *) fail InvalidInput "TARGET_DIR $TARGET_DIR is not on the volume at $VOLUME_ROOT" ;;
  esac
  local manifest
  manifest="$(rclone cat "$LOCATION/manifest.json" 2>"$work/download.err")" ||
    fail BackupNotFound "no manifest.json at $LOCATION (an interrupted run is not a backup): $(tail -c 800 "$work/download.err" | tr '\n' ' ')"
  [[ "$(jq -r .formatVersion <<<"$manifest")" == "$manifestFormat" ]] || fail InvalidBackup "manifest format $(jq -r .formatVersion <<<"$manifest") is not $manifestFormat"
  [[ "$(jq -r '.kind // "logical"' <<<"$manifest")" == files ]] || fail InvalidBackup "the backup at $LOCATION is not a files backup (VolumeBackup)"
  local data compression encrypted expected
  data="$(jq -r .dataFile <<<"$manifest")"
  compression="$(jq -r .compression <<<"$manifest")"
  encrypted="$(jq -r .encrypted <<<"$manifest")"
  expected="$(jq -r .sha256 <<<"$manifest")"
  [[ "$data" =~ ^files\.tar(\.gz|\.zst)?(\.enc)?$ ]] || fail InvalidBackup "unexpected archive name in the manifest"
  [[ "$compression" =~ ^(gzip|zstd|none)$ ]] || fail InvalidBackup "unknown compression $compression in the manifest"
  if [[ "$encrypted" == true && -z "${ENCRYPTION_KEY_FILE:-}" ]]; then fail KeyRequired "the backup is encrypted; give the key"; fi
  if [[ "$encrypted" != true ]]; then unset ENCRYPTION_KEY_FILE; fi

  local staging
  if [[ "$TARGET_DIR" == "$VOLUME_ROOT" ]]; then staging="$VOLUME_ROOT/.flightdeck-restore"; else staging="$(dirname "$TARGET_DIR")/.flightdeck-restore.$(basename "$TARGET_DIR")"; fi
  local state=""
  if [[ -f "$staging/state" ]]; then state="$(cat "$staging/state")"; fi
  if [[ "$state" == moving-out || "$state" == moving-in ]]; then
    # An earlier attempt was cut off while moving: finish it if it was this backup.
    [[ "$(cat "$staging/archive-sha256" 2>/dev/null)" == "$expected" ]] ||
      fail RestoreConflict "a restore of another backup into $TARGET_DIR was cut off while moving files; its files are in $staging"
  else
    local entries=()
    if [[ -d "$TARGET_DIR" ]]; then mapfile -d '' -t entries < <(folder_entries "$TARGET_DIR"); fi
    if ((${#entries[@]} > 0)) && [[ "${RESTORE_OVERWRITE:-false}" != true ]]; then
      fail TargetNotEmpty "$TARGET_DIR holds ${#entries[@]} entries (such as ${entries[0]}); set overwrite to replace them"
    fi
    rm -rf "$staging"
    (umask 022 && mkdir -p "$(dirname "$staging")")
    mkdir -p -m 0700 "$staging/data"
    printf '%s' "$expected" >"$staging/archive-sha256"
    # Download and verify before extracting anything.
    rclone copyto --quiet "$LOCATION/$data" "$staging/$data" 2>"$work/download.err" ||
      fail BackupNotFound "cannot download $data: $(tail -c 800 "$work/download.err" | tr '\n' ' ')"
    local actual
    actual="$(sha256sum "$staging/$data" | cut -d' ' -f1)"
    if [[ "$actual" != "$expected" ]]; then
      rm -rf "$staging"
      fail ChecksumMismatch "$data has sha256 $actual, the manifest says $expected"
    fi
    cipher -d <"$staging/$data" | decompressor "$compression" |
      tar --extract --file=- --directory="$staging/data" --numeric-owner --same-owner --preserve-permissions 2>"$work/extract.err" ||
      fail RestoreFailed "extracting $data: $(tail -c 1500 "$work/extract.err" | tr '\n' ' ')"
    rm -f "$staging/$data"
    describe_files "$staging/data" "$work/description" "$staging/stats"
    if ((${#entries[@]} > 0)); then state=moving-out; else state=moving-in; fi
    printf '%s' "$state" >"$staging/state"
  fi

  local name
  if [[ "$state" == moving-out ]]; then
    # overwrite: what the target holds goes into the staging folder, deleted at the end.
    mkdir -p "$staging/old"
    while IFS= read -r -d '' name; do mv -T -- "$TARGET_DIR/$name" "$staging/old/$name"; done < <(folder_entries "$TARGET_DIR")
    printf 'moving-in' >"$staging/state"
  fi
  # A folder made here is for a site's pods to read: not the script's private umask.
  (umask 022 && mkdir -p "$TARGET_DIR")
  while IFS= read -r -d '' name; do mv -T -- "$staging/data/$name" "$TARGET_DIR/$name"; done < <(find "$staging/data" -mindepth 1 -maxdepth 1 -printf '%f\0')
  local count bytes content
  read -r count bytes content <"$staging/stats"
  rm -rf "$staging"
  local verified=false warning=""
  if [[ "$content" == "$(jq -r .contentSha256 <<<"$manifest")" ]]; then
    verified=true
  else
    warning="the restored files' description differs from the one recorded at backup time: files changed on the source while it was archived"
  fi
  result "$(jq -cn --arg id "$(jq -r .id <<<"$manifest")" --argjson fileCount "$count" --argjson contentBytes "$bytes" --arg contentSha256 "$content" \
    --argjson verified "$verified" --arg warning "$warning" \
    '{result: "Completed", id: $id, fileCount: $fileCount, contentBytes: $contentBytes, contentSha256: $contentSha256, verified: $verified}
     + (if $warning == "" then {} else {warning: $warning} end)')"
}

case "${1:-}" in
  backup) backup ;;
  restore) restore ;;
  files-backup) files_backup ;;
  files-restore) files_restore ;;
  physical-backup) physical_backup ;;
  physical-fetch) physical_fetch "${2:-}" ;;
  *) fail InvalidInput "usage: flightdeck-backup backup|restore|physical-backup|physical-fetch DIRECTORY" ;;
esac
