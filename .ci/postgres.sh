#!/usr/bin/env bash
# Makes sure this machine can run the PostgreSQL tests: the server binaries (installed with
# apt-get when missing) and the `postgres` user they run as. The tests start their own
# throw-away clusters (crates/testkit), exactly as on a developer's machine.
set -euo pipefail

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "PostgreSQL server binaries not found; installing them" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql postgres
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') binaries in $pg_bin"
