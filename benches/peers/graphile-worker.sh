#!/usr/bin/env bash
# Side by side on one PostgreSQL: graphile-worker 0.18 (a PostgreSQL job queue for Node)
# running no-op jobs, unbatched and batched, then swakelola's own timer-firing bench — in the
# same run, so that BENCHMARKS.md can quote both from it. Run by hand, not in CI:
#
#   SWAKELOLA_TEST_POSTGRES_URL=postgres://postgres@localhost:5432/postgres \
#       bash benches/peers/graphile-worker.sh [JOBS]
#
# Needs Node 18+ and npm (the registry), and a PostgreSQL server the URL's user may create
# databases on. Each run creates a fresh database `graphile_peer_<pid>` and drops it at the end.
set -euo pipefail

admin_url="${SWAKELOLA_TEST_POSTGRES_URL:?set SWAKELOLA_TEST_POSTGRES_URL to a PostgreSQL server}"
jobs="${1:-100000}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
database="graphile_peer_$$"
base="${admin_url%/*}"
url="$base/$database"
trap 'psql "$admin_url" -qc "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

command -v psql >/dev/null || { echo "psql is needed (apt-get install postgresql-client)" >&2; exit 2; }
psql "$admin_url" -qc "CREATE DATABASE $database"

cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund graphile-worker@0.18.0 pg@8 >/dev/null
mkdir tasks
echo 'module.exports = async () => {};' > tasks/noop.js

# Unbatched: every job fetched and completed in its own round trips. Batched: a local queue of
# 500 fetched at once and completions written in batches (graphile-worker's own perf setup).
write_config() {
  cat > graphile.config.js <<JS
module.exports = {
  worker: {
    connectionString: process.env.DATABASE_URL,
    concurrentJobs: 24,
    maxPoolSize: 25,
    $1
  },
};
JS
}

add_jobs() {
  node -e '
    const { Pool } = require("pg");
    const pool = new Pool({ connectionString: process.env.DATABASE_URL });
    const n = parseInt(process.argv[1], 10);
    const jobs = Array.from({ length: n }, (_, i) => ({ identifier: "noop", payload: { id: i } }));
    pool.query("select 1 from graphile_worker.add_jobs(array(select json_populate_recordset(null::graphile_worker.job_spec, \$1::json)))", [JSON.stringify(jobs)])
      .then(() => pool.end(), (e) => { console.error(e); process.exit(1); });
  ' "$1"
}

run_once() {
  local start end
  start=$(date +%s.%N)
  npx graphile-worker --once >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "$start $end" | awk '{ printf "%.3f", $2 - $1 }'
}

export DATABASE_URL="$url"
write_config ""
npx graphile-worker --schema-only >/dev/null 2>&1
startup=$(run_once)

for mode in unbatched batched; do
  if [ "$mode" = unbatched ]; then
    write_config "localQueue: { size: -1 }, completeJobBatchDelay: -1, failJobBatchDelay: -1,"
  else
    write_config "localQueue: { size: 500, refetchDelay: { durationMs: 10 } }, completeJobBatchDelay: 0, failJobBatchDelay: 0,"
  fi
  add_jobs "$jobs"
  seconds=$(run_once)
  echo "graphile-worker 0.18 $mode: $jobs no-op jobs in ${seconds}s (startup ${startup}s): $(echo "$jobs $seconds $startup" | awk '{ printf "%.0f", $1 / ($2 - $3) }') jobs/s"
done

echo
echo "swakelola, same server, same run (timers fired by 1 and 3 runners):"
cd "$repo"
SWAKELOLA_BENCH_OPS=200 SWAKELOLA_BENCH_TIMER_CASES=10000 SWAKELOLA_TEST_POSTGRES_URL="$admin_url" \
  cargo bench --quiet -p swakelola-store --bench transitions 2>/dev/null | grep '^| PostgreSQL 15 |'
