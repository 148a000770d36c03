#!/usr/bin/env bash
# order-life-cost.sh measures what orders cost the database over their whole
# life: WAL bytes, CPU and bytes on disk per command, for create, add item,
# place, ship and deliver. docs/scaling.md derives its sizing from it.
#
#   scripts/order-life-cost.sh [ORDERS] [ITEMS]      (defaults 4000 and 5)
#
# It runs on a PostgreSQL cluster of its own (initdb into a temporary
# folder, port $PORT), so that no other writer's records are in the WAL it
# measures, and serves bin/orderapi (`make build`) against it. Each step
# sends its commands over HTTP, CLIENTS at a time (one curl process), then
# waits for the analytics consumer to count them: its work counts to the
# step. Settings, from the environment:
#
#   MODE=warm   (default) every order goes through every step, in turn;
#               no checkpoint during the run, so WAL is records and
#               hardly any full-page images: the cost of an order whose
#               pages were touched since the last checkpoint.
#   MODE=cold   ORDERS orders get created and ITEMS items; then 1000 of
#               them, at random, are placed, shipped and delivered, and
#               1000 of their customers create another order, each step
#               right after a CHECKPOINT: the cost of a command on an order
#               (or a customer) nothing else touched since the last
#               checkpoint, as a shipment days after the order is, full-page
#               images included.
#   CHECKPOINTS=1      warm, but a CHECKPOINT before every step.
#   WAL_COMPRESSION=lz4 the cluster's wal_compression (default off).
#   IDEMPOTENCY=1      every command carries an Idempotency-Key.
#   CLIENTS=32  PORT=55499  ADDR=127.0.0.1:18080  BIN=bin/orderapi
#   PGBIN (default: the newest /usr/lib/postgresql/*/bin)
#
# CPU is read from /proc: the server process, and every process of the
# cluster (the postmaster, its live children and the children it reaped).
set -euo pipefail

ORDERS=${1:-4000}
ITEMS=${2:-5}
MODE=${MODE:-warm}
CLIENTS=${CLIENTS:-32}
PORT=${PORT:-55499}
ADDR=${ADDR:-127.0.0.1:18080}
SAMPLE=1000
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$root/bin/orderapi}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}

say() { printf 'order-life-cost: %s\n' "$*" >&2; }
die() { say "$@"; exit 1; }
[ -x "$BIN" ] || die "no $BIN: run make build first"
[ -x "$PGBIN/initdb" ] || die "no initdb in $PGBIN (set PGBIN)"

work=$(mktemp -d)
chmod 755 "$work"
mkdir -p "$work/pg" "$work/key" "$work/req"
# initdb and pg_ctl refuse to run as root: as root, the cluster is postgres's.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work/pg"

server=""
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	as_owner "$PGBIN/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

as_owner "$PGBIN/initdb" --auth=trust --no-sync -U postgres -D "$work/pg" >/dev/null
cat >>"$work/pg/postgresql.conf" <<CONF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_wal_size = 4GB
wal_keep_size = 4GB
wal_compression = ${WAL_COMPRESSION:-off}
CONF
as_owner "$PGBIN/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w start >/dev/null
psql() { "$PGBIN/psql" -X -qtA -h 127.0.0.1 -p "$PORT" -U postgres -d "${DB:-orderapi}" "$@"; }
DB=postgres psql -c "CREATE DATABASE orderapi"
url="postgres://postgres@127.0.0.1:$PORT/orderapi?sslmode=disable"
DATABASE_URL=$url "$BIN" migrate >/dev/null 2>&1 || die "migrate failed"

token=$(ORDERAPI_AUTH_DEV_DIR=$work/key "$BIN" token --role staff --ttl 24h)
env DATABASE_URL="$url" ORDERAPI_ADDR="$ADDR" ORDERAPI_AUTH=dev ORDERAPI_AUTH_DEV_DIR="$work/key" \
	"ORDERAPI_RATE_COMMANDS=1000000/s burst 1000000" "ORDERAPI_RATE_READS=1000000/s burst 1000000" \
	"$BIN" serve >"$work/orderapi.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://$ADDR/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "http://$ADDR/readyz" >/dev/null || die "the server did not become ready: see $work/orderapi.log"

postmaster=$(head -1 "$work/pg/postmaster.pid")
ticks=$(getconf CLK_TCK)
db_ticks() {
	local t p
	t=$(awk '{print $14+$15+$16+$17}' "/proc/$postmaster/stat")
	for p in $(pgrep -P "$postmaster"); do
		t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
server_ticks() { awk '{print $14+$15}' "/proc/$server/stat"; }
lsn() { psql -c "SELECT pg_current_wal_lsn()"; }

# request FILE METHOD PATH BODY: one request of a curl config file.
request() {
	{
		printf 'url = "http://%s%s"\nrequest = "%s"\n' "$ADDR" "$3" "$2"
		printf 'header = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\n' "$token"
		[ -n "${IDEMPOTENCY:-}" ] && printf 'header = "Idempotency-Key: %s"\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
		printf "data = \"%s\"\noutput = \"/dev/null\"\nwrite-out = \"%%{http_code} %%header{location}\\\\n\"\nnext\n" "${4//\"/\\\"}"
	} >>"$1"
}

# send FILE: the requests, CLIENTS at a time; prints their answers. The
# last "next" would start a request without a URL.
send() {
	sed -i '$d' "$1"
	curl -s --parallel --parallel-max "$CLIENTS" --parallel-immediate -K "$1" 2>/dev/null || true
}

uuid() { cat /proc/sys/kernel/random/uuid; }

# build STEP IDS: the requests of one step, for the orders listed in IDS.
build() {
	local f=$work/req/$1.cfg id i
	: >"$f"
	while read -r id; do
		case $1 in
		add)
			for ((i = 0; i < ITEMS; i++)); do
				request "$f" POST "/v1/orders/$id/items" \
					"{\"product_id\":\"$(uuid)\",\"product_name\":\"Merino crew-neck sweater, blue, size L\",\"quantity\":2,\"unit_price\":\"59.90\"}"
			done ;;
		place) request "$f" POST "/v1/orders/$id/place" \
			"{\"shipping_address\":{\"name\":\"Ada Lovelace\",\"line1\":\"12 St James's Square\",\"city\":\"London\",\"postal_code\":\"SW1Y 4JH\",\"country\":\"GB\"}}" ;;
		ship) request "$f" POST "/v1/orders/$id/ship" '{"tracking_number":"1Z999AA10123456784","carrier":"UPS"}' ;;
		deliver) request "$f" POST "/v1/orders/$id/deliver" '{"signature":"A. Lovelace"}' ;;
		esac
	done <"$2"
}

printf '%-13s %8s %12s %12s %14s %14s\n' step commands 'WAL B/cmd' 'of it FPI' 'database µs/cmd' 'server µs/cmd'
# step NAME WANT_STATUS: runs one step and reports it.
step() {
	local name=$1 want=$2 l0 l1 d0 d1 s0 s1 n bad wal fpi
	sleep 2
	if [ "$MODE" = cold ] && [ "$name" != create ] && [ "$name" != add ] || [ -n "${CHECKPOINTS:-}" ]; then
		psql -c CHECKPOINT
	fi
	l0=$(lsn) d0=$(db_ticks) s0=$(server_ticks)
	send "$work/req/$name.cfg" >"$work/req/$name.out"
	sleep 2 # the analytics consumer counts the step's events
	l1=$(lsn) d1=$(db_ticks) s1=$(server_ticks)
	n=$(wc -l <"$work/req/$name.out")
	bad=$(awk -v w="$want" '$1 != w' "$work/req/$name.out" | wc -l)
	[ "$bad" = 0 ] || die "$name: $bad of $n answers were not $want: $(awk -v w="$want" '$1 != w' "$work/req/$name.out" | head -3)"
	wal=$(psql -c "SELECT pg_wal_lsn_diff('$l1', '$l0')")
	fpi=$("$PGBIN/pg_waldump" -p "$work/pg/pg_wal" --stats -s "$l0" -e "$l1" 2>/dev/null |
		awk '/^Total/ {gsub(/\[[^]]*\]/, ""); print $4}')
	printf '%-13s %8d %12.0f %12.0f %14.0f %14.0f\n' "$name" "$n" "$(bc -l <<<"$wal/$n")" "$(bc -l <<<"${fpi:-0}/$n")" \
		"$(bc -l <<<"($d1-$d0)*1000000/$ticks/$n")" "$(bc -l <<<"($s1-$s0)*1000000/$ticks/$n")"
}

: >"$work/req/create.cfg"
for ((i = 0; i < ORDERS; i++)); do request "$work/req/create.cfg" POST /v1/orders "{\"customer_id\":\"$(uuid)\"}"; done
step create 201
awk '{n = split($2, p, "/"); print p[n]}' "$work/req/create.out" | tr -d '\r' >"$work/ids"
build add "$work/ids"
step add 200
if [ "$MODE" = cold ]; then
	shuf -n "$SAMPLE" "$work/ids" >"$work/sample"
	ids=$work/sample
else
	ids=$work/ids
fi
for s in place ship deliver; do
	build "$s" "$ids"
	step "$s" 200
done
if [ "$MODE" = cold ]; then
	: >"$work/req/create-again.cfg"
	grep -o 'customer_id[^0-9a-f]*[0-9a-f-]\{36\}' "$work/req/create.cfg" | grep -o '[0-9a-f-]\{36\}$' |
		shuf -n "$SAMPLE" | while read -r c; do
		request "$work/req/create-again.cfg" POST /v1/orders "{\"customer_id\":\"$c\"}"
	done
	step create-again 201
fi

echo
psql -c "SELECT count(*), sum(octet_length(data::text) + octet_length(metadata::text))::bigint FROM events" |
	awk -F'|' '{printf "events: %d, raw JSON (data and metadata as text) %.0f B each\n", $1, $2/$1}'
psql -c "VACUUM ANALYZE"
orders=$(psql -c "SELECT count(*) FROM order_details")
echo "bytes on disk after VACUUM, per order of the $orders (table, TOAST, indexes, total):"
psql -F ' ' -c "
SELECT c.relname, pg_relation_size(c.oid), coalesce(pg_total_relation_size(c.reltoastrelid), 0),
       pg_indexes_size(c.oid), pg_total_relation_size(c.oid)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'r' AND pg_relation_size(c.oid) > 8192
 ORDER BY pg_total_relation_size(c.oid) DESC" |
	awk -v n="$orders" '{printf "  %-18s %8.0f %8.0f %8.0f %8.0f\n", $1, $2/n, $3/n, $4/n, $5/n; t += $5} END {printf "  %-18s %35.0f\n", "all", t/n}'
