#!/usr/bin/env bash
#
# cluster.sh: a throwaway PostgreSQL cluster for the tests and the bench.
#
#   cluster.sh start STATE   initdb in a new temporary directory, start the
#                            server on a unix socket in it (no TCP), write
#                            the directory's path into the file STATE
#   cluster.sh stop STATE    stop that server and remove its directory
#   cluster.sh conninfo STATE  the libpq connection string for it
#   cluster.sh pause STATE   stop the server, keep the cluster (a database
#                            down, for the fault tests)
#   cluster.sh resume STATE  start it again
#
# initdb refuses to run as root, and CI runs as root: then the cluster
# belongs to the `postgres` system user (Debian's postgresql package makes
# it), and commands run as that user through runuser. The database user is
# `otelc`, a superuser trusted on the socket: nothing listens beyond it.
set -euo pipefail

cmd=${1:?usage: cluster.sh start|stop|conninfo|pause|resume STATE}
state=${2:?usage: cluster.sh start|stop|conninfo|pause|resume STATE}

bindir=$(pg_config --bindir 2>/dev/null || true)
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
[[ -x "$bindir/initdb" ]] || { echo "cluster.sh: no initdb (Debian package postgresql)" >&2; exit 1; }

as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case $cmd in
start)
    dir=$(mktemp -d /tmp/otelc-pg.XXXXXX)
    chmod 700 "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U otelc --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    # The directory is the socket's: readable by the tests' user (root or not).
    chmod 755 "$dir"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c max_connections=50" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "$dir" >"$state"
    echo "cluster.sh: PostgreSQL on $dir (socket), user otelc"
    ;;
stop)
    [[ -f "$state" ]] || exit 0
    dir=$(cat "$state")
    if [[ -d "$dir/data" ]]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir" "$state"
    ;;
conninfo)
    echo "host=$(cat "$state") user=otelc dbname=postgres"
    ;;
pause)
    dir=$(cat "$state")
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
resume)
    dir=$(cat "$state")
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c max_connections=50" \
        start >/dev/null
    ;;
*)
    echo "cluster.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
