#!/usr/bin/env bash
# devdb.sh finds or starts a PostgreSQL server for development and tests.
#
#   scripts/devdb.sh url [DBNAME]   print a URL for DBNAME, creating the
#                                   database if it is missing; by default
#                                   orderapi_<n>, this checkout's own (see
#                                   checkout_db)
#   scripts/devdb.sh stop           stop the container or private cluster
#                                   that this script started
#
# Servers, in order of preference: the one at $DATABASE_URL's host and port
# (default 127.0.0.1:5432); a Docker container "orderapi-devdb" on port
# 55432; a private cluster in .devdb/ on port 55432, built with the
# installed PostgreSQL binaries. Only the URL goes to stdout, so
#   DATABASE_URL=$(scripts/devdb.sh url)
# works; everything else goes to stderr.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
port=55432
container=orderapi-devdb
image=postgres:15-alpine
bindir="" # set by url_cmd and stop_cmd

say() { printf 'devdb: %s\n' "$*" >&2; }
die() { say "$@"; exit 1; }

# psql from PATH, else from the newest installed PostgreSQL.
psql_bin() {
	command -v psql || { [ -n "$bindir" ] && echo "$bindir/psql"; } || return 1
}

# answers URL: can we log in and run a query?
answers() {
	local p
	p=$(psql_bin) || return 1
	PGCONNECT_TIMEOUT=3 "$p" -w "$1" -XAtqc 'select 1' >/dev/null 2>&1
}

# ensure_db ADMIN_URL: create $db unless it exists.
ensure_db() {
	local p exists
	p=$(psql_bin) || die "psql not found"
	exists=$("$p" "$1" -XAtqc "select 1 from pg_database where datname = '$db'")
	if [ "$exists" != 1 ]; then
		say "creating database $db"
		"$p" "$1" -Xqc "create database \"$db\"" >&2
	fi
}

docker_up() {
	command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1
}

# The newest installed PostgreSQL's bin directory, or empty.
newest_bindir() {
	local initdb
	initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
	if [ -x "$initdb" ]; then dirname "$initdb"; fi
}

# as_owner CMD...: run as the postgres system user when root, since
# initdb and pg_ctl refuse to run as root; from /, which it can enter.
as_owner() {
	if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The private cluster lives in .devdb/, unless the postgres user cannot
# reach the repository (a clone under /root, say); then in /var/tmp.
cluster_dir() {
	if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$root" 2>/dev/null; then
		echo "/var/tmp/orderapi-devdb-$(printf %s "$root" | cksum | cut -d' ' -f1)"
	else
		echo "$root/.devdb"
	fi
}

start_container() {
	if [ -z "$(docker ps -aq --filter "name=^${container}$")" ]; then
		say "starting Docker container $container ($image) on port $port"
		docker run -d --name "$container" -e POSTGRES_HOST_AUTH_METHOD=trust \
			-p "127.0.0.1:$port:5432" "$image" >/dev/null
	elif [ "$(docker inspect -f '{{.State.Running}}' "$container")" != true ]; then
		say "starting Docker container $container"
		docker start "$container" >/dev/null
	fi
	# TCP inside the container answers only once initialisation is done.
	for _ in $(seq 60); do
		docker exec "$container" pg_isready -q -h 127.0.0.1 -U postgres && return 0
		sleep 1
	done
	die "container $container did not become ready; see: docker logs $container"
}

start_cluster() {
	local dir data
	dir=$(cluster_dir)
	data="$dir/data"
	if [ ! -f "$data/PG_VERSION" ]; then
		say "creating a private cluster in $dir with $bindir"
		mkdir -p "$data"
		if [ "$(id -u)" = 0 ]; then chown -R postgres: "$dir"; fi
		as_owner "$bindir/initdb" --auth=trust -U postgres -D "$data" >"$dir/initdb.log" 2>&1 ||
			die "initdb failed; see $dir/initdb.log"
		# TCP on loopback only; no Unix socket, whose usual directory may
		# not exist or belong to another server. synchronous_commit=off
		# speeds up tests and risks only the last commits of a crash.
		cat >>"$data/postgresql.conf" <<-EOF

			# added by scripts/devdb.sh
			port = $port
			listen_addresses = '127.0.0.1'
			unix_socket_directories = ''
			synchronous_commit = off
		EOF
	fi
	if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		say "starting the private cluster on 127.0.0.1:$port (log: $dir/log)"
		as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/log" -w -t 60 start >/dev/null ||
			die "the private cluster did not start; see $dir/log"
	fi
}

# checkout_db is the development database of this checkout: its own,
# since the development keys in .orderapi-dev are this checkout's, and a
# database whose data keys another checkout's master key wraps is refused.
checkout_db() {
	echo "orderapi_$(printf %s "$root" | cksum | cut -d' ' -f1)"
}

url_cmd() {
	db=${1:-$(checkout_db)}
	case $db in
	*[!A-Za-z0-9_]* | "") die "database name must be letters, digits and _: $db" ;;
	esac
	bindir=$(newest_bindir)

	# (a) The server at $DATABASE_URL's host and port, keeping its user,
	# password and parameters; only the database name changes.
	local url rest params authority
	url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
	rest=${url#*://}
	params=""
	case $rest in *\?*) params="?${rest#*\?}" rest=${rest%%\?*} ;; esac
	authority=${rest%%/*}
	local base="${url%%://*}://$authority"
	if answers "$base/postgres$params"; then
		say "using the server at ${authority##*@}"
		ensure_db "$base/postgres$params"
		echo "$base/$db$params"
		return
	fi
	say "no server answers at ${authority##*@}"

	local local_url="postgres://postgres@127.0.0.1:$port"
	if docker_up; then
		# (b) A container, reused across calls.
		start_container
		if [ "$(docker exec "$container" psql -U postgres -XAtqc "select 1 from pg_database where datname = '$db'")" != 1 ]; then
			say "creating database $db"
			docker exec "$container" psql -U postgres -Xqc "create database \"$db\"" >&2
		fi
	elif [ -n "$bindir" ]; then
		# (c) A private cluster, reused across calls.
		start_cluster
		ensure_db "$local_url/postgres?sslmode=disable"
	else
		# (d) Nothing to run a server with.
		say "no PostgreSQL server, Docker engine or PostgreSQL installation found. Either:"
		say "  apt-get install -y postgresql      (then run this again)"
		say "  start Docker                       (this script then runs $image)"
		say "  or set DATABASE_URL to a server that accepts your login"
		exit 1
	fi
	echo "$local_url/$db?sslmode=disable"
}

stop_cmd() {
	local stopped=""
	if docker_up && [ -n "$(docker ps -q --filter "name=^${container}$")" ]; then
		say "stopping Docker container $container"
		docker stop "$container" >/dev/null
		stopped=1
	fi
	bindir=$(newest_bindir)
	local dir
	dir=$(cluster_dir)
	if [ -n "$bindir" ] && [ -f "$dir/data/PG_VERSION" ] &&
		as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		say "stopping the private cluster in $dir"
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
		stopped=1
	fi
	[ -n "$stopped" ] || say "nothing to stop"
}

case ${1:-} in
url) url_cmd "${2:-}" ;;
stop) stop_cmd ;;
*) die "usage: $0 url [DBNAME] | stop" ;;
esac
