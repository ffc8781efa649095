#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL cluster for the tests.
#
#   eval "$(scripts/pg-cluster.sh start)"   prints export lines:
#        TREATYWATCH_TEST_POSTGRES (a URL) and TREATYWATCH_TEST_PGDIR
#   scripts/pg-cluster.sh stop DIR          stops it and removes DIR
#
# The cluster lives in a new temporary directory and listens only on a
# unix socket inside it (no TCP port). initdb refuses to run as root, so
# as root the server runs as the `postgres` user (created by Debian's
# package); otherwise as the current user.
set -euo pipefail

log() { echo "pg-cluster: $*" >&2; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	log "no PostgreSQL server found under /usr/lib/postgresql/*/bin: run scripts/install-test-deps.sh"
	exit 1
fi

as_owner() {
	if [ "$(id -u)" = "0" ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case "${1:-}" in
start)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/treatywatch-pg.XXXXXX")
	chmod 755 "$dir"
	if [ "$(id -u)" = "0" ]; then
		if ! id postgres >/dev/null 2>&1; then
			log "running as root but there is no postgres user to run the server as"
			exit 1
		fi
		chown postgres: "$dir"
	fi
	as_owner "$bindir/initdb" -D "$dir/data" -U treatywatch -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; log "initdb failed"; exit 1; }
	as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null ||
		{ cat "$dir/server.log" >&2; log "server did not start"; exit 1; }
	log "cluster up in $dir (unix socket)"
	echo "export TREATYWATCH_TEST_PGDIR='$dir'"
	echo "export TREATYWATCH_TEST_POSTGRES='postgres://treatywatch@/postgres?host=$dir&sslmode=disable'"
	;;
stop)
	dir=${2:?usage: pg-cluster.sh stop DIR}
	if [ -d "$dir/data" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	;;
*)
	echo "usage: pg-cluster.sh start | stop DIR" >&2
	exit 2
	;;
esac
