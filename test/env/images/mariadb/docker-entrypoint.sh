#!/bin/sh
# Entrypoint of the locally built MariaDB image (flightdeck.local/mariadb). It
# follows the environment contract of the official mariadb image, so that
# manifests written for that image run on this one:
#
#   MARIADB_ROOT_PASSWORD (or MYSQL_ROOT_PASSWORD)  root's password, for root@'%' and root@localhost
#   MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1              allow a root without password instead
#   MARIADB_DATABASE                                 a database to create
#   MARIADB_USER, MARIADB_PASSWORD                   a user with all privileges on MARIADB_DATABASE
#   /docker-entrypoint-initdb.d/*.sql, *.sh          run once, after the above
#
# All of it happens only when the data directory is empty; a server restarted
# on existing data starts as it is. Arguments starting with "-" are options
# for mariadbd. The server runs as the mysql user (uid 999).
set -eu

if [ "${1#-}" != "$1" ]; then set -- mariadbd "$@"; fi
if [ "$1" != mariadbd ] && [ "$1" != mysqld ]; then exec "$@"; fi

datadir=/var/lib/mysql
as_user=""
if [ "$(id -u)" = 0 ]; then
  chown mysql:mysql "$datadir" /run/mysqld
  as_user=--user=mysql
fi

if [ ! -d "$datadir/mysql" ]; then
  root_password="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}"
  if [ -z "$root_password" ] && [ "${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-}" != 1 ]; then
    echo "docker-entrypoint: the data directory is empty; set MARIADB_ROOT_PASSWORD (or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1)" >&2
    exit 1
  fi
  echo "docker-entrypoint: initialising $datadir" >&2
  mariadb-install-db $as_user --datadir="$datadir" --auth-root-authentication-method=normal \
    --skip-test-db --skip-name-resolve >/dev/null
  # A server on the socket only, so nothing connects before the accounts exist.
  mariadbd $as_user --datadir="$datadir" --skip-networking --socket=/run/mysqld/init.sock &
  pid=$!
  tries=0
  until mariadb --socket=/run/mysqld/init.sock -uroot -e 'SELECT 1' >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
      echo "docker-entrypoint: the initialising server did not start" >&2
      exit 1
    fi
    sleep 0.1
  done
  sql() { mariadb --socket=/run/mysqld/init.sock -uroot "$@"; }
  quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g")"; }
  {
    echo "SET sql_log_bin = 0;"
    # Of what mariadb-install-db made, only root@localhost and mariadb.sys
    # are kept (it also names this container's host name, which means
    # nothing in a pod). mariadb.sys owns the mysql.user view: without it
    # every SELECT on mysql.user fails with error 1449.
    echo "DELETE FROM mysql.global_priv WHERE Host <> 'localhost' OR User NOT IN ('root', 'mariadb.sys');"
    echo "FLUSH PRIVILEGES;"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY $(quote "$root_password");"
    echo "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(quote "$root_password");"
    if [ -n "${MARIADB_DATABASE:-}" ]; then
      echo "CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"
    fi
    if [ -n "${MARIADB_USER:-}" ]; then
      echo "CREATE USER $(quote "$MARIADB_USER")@'%' IDENTIFIED BY $(quote "${MARIADB_PASSWORD:-}");"
      if [ -n "${MARIADB_DATABASE:-}" ]; then
        echo "GRANT ALL PRIVILEGES ON \`$MARIADB_DATABASE\`.* TO $(quote "$MARIADB_USER")@'%';"
      fi
    fi
    echo "FLUSH PRIVILEGES;"
  } | sql
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) echo "docker-entrypoint: running $f" >&2; MYSQL_PWD="$root_password" sql ${MARIADB_DATABASE:+"$MARIADB_DATABASE"} <"$f" ;;
      *.sh) echo "docker-entrypoint: running $f" >&2; . "$f" ;;
      *) ;;
    esac
  done
  MYSQL_PWD="$root_password" mariadb-admin --socket=/run/mysqld/init.sock -uroot shutdown
  wait "$pid" || true
  echo "docker-entrypoint: initialised" >&2
fi

exec "$@" $as_user
