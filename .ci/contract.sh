#!/usr/bin/env bash
# The API contract test: schemathesis fuzzes the served API against its own OpenAPI document
# with every check, as a staff member and as an administrator, on a fresh SQLite database.
# Token revocation is left out (the fuzzer would revoke its own token). Exit 0 only when no
# check failed. Usage: .ci/contract.sh [path/to/swakelola] [max examples per operation]
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-target/debug/swakelola}
examples=${2:-25}
command -v st >/dev/null 2>&1 || python3 -m pip install -q "schemathesis>=4,<5"

work=$(mktemp -d /tmp/swakelola-contract.XXXXXX)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export SWAKELOLA_DATABASE_URL="sqlite://$work/contract.db"
unset SWAKELOLA_CONFIG

"$bin" workflow deploy workflows/swakelola-tipe-3.yaml >/dev/null
secret() { "$bin" token create --json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])'; }
staff=$(secret --name "Budi Santoso" --organisation dp3a-palembang --role ppk --role pa_kpa --role perencana)
admin=$(secret --name "Admin DP3A" --organisation dp3a-palembang --role admin)
operator=$(secret --name "Operator" --organisation dp3a-palembang --role operator)

# One real case with a document, for the operations on cases to act on.
case_json=$("$bin" case open --json --workflow swakelola-tipe-3 --key KONTRAK-1 --organisation dp3a-palembang \
  --field nama_kegiatan="Pendampingan" --field instansi="DP3A Kota Palembang" \
  --field ormas="Yayasan Intan Maharani" --field tahun_anggaran=2025 \
  --party instansi=dp3a-palembang --party ormas=yayasan-intan-maharani \
  --as ppk --actor "Budi Santoso")
export SWAKELOLA_CONTRACT_CASE=$(printf '%s' "$case_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["case"]["id"])')
printf 'notulen' >"$work/notulen.pdf"
attached=$("$bin" case attach --json "$SWAKELOLA_CONTRACT_CASE" notulen_audiensi "$work/notulen.pdf" --as ppk --actor "Budi Santoso")
export SWAKELOLA_CONTRACT_DOCUMENT=$(printf '%s' "$attached" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["event"]["kind"]["document"]["sha256"])')

"$bin" serve --listen 127.0.0.1:0 2>"$work/serve.log" &
server=$!
address=""
for _ in $(seq 1 100); do
  address=$(python3 - "$work/serve.log" <<'PY' || true
import json, sys
for line in open(sys.argv[1]):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    if event.get("event") == "serving":
        print(event["address"])
        break
PY
)
  [ -n "$address" ] && break
  sleep 0.1
done
[ -n "$address" ] || { echo "the API did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
base="http://$address"
curl -sf -H "Authorization: Bearer $staff" "$base/openapi.json" >"$work/openapi.json"

status=0
for who in staff admin operator; do
  token=${!who}
  echo "== schemathesis as $who"
  st --config-file .ci/schemathesis.toml run "$work/openapi.json" --url "$base" \
    --checks all --max-examples "$examples" --workers 1 \
    --exclude-operation-id revoke_token \
    --header "Authorization: Bearer $token" \
    --suppress-health-check all \
    --seed 1 \
    --no-color || status=1
done
exit $status
