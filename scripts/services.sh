#!/usr/bin/env bash
# Starts the local services VANA's tests talk to, if they are not running already.
set -euo pipefail
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  else
    echo "PostgreSQL is not running on 127.0.0.1:5432 and no local cluster was found." >&2
    echo "Install it (apt-get install -y postgresql) or set VANA_TEST_POSTGRES_URL." >&2
    exit 1
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null
# MariaDB (the integration suite's sync tests): root over TCP without a password, database `test`.
if ! mariadb-admin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; then
  if ! command -v mysqld_safe >/dev/null 2>&1; then
    echo "MariaDB is not running on 127.0.0.1:3306 and is not installed." >&2
    echo "Install it: apt-get install -y mariadb-server" >&2
    exit 1
  fi
  (service mariadb start || (mysqld_safe --bind-address=127.0.0.1 --port=3306 >/dev/null 2>&1 &)) >/dev/null 2>&1
  for _ in $(seq 1 30); do mariadb-admin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1 && break; sleep 1; done
fi
mariadb -h 127.0.0.1 -P 3306 -u root -e "CREATE DATABASE IF NOT EXISTS test"
