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
#   cluster.sh hang STATE    SIGSTOP the postmaster and every process of the
#                            cluster: a server that takes connections and
#                            statements and never answers (the fault tests)
#   cluster.sh unhang STATE  SIGCONT them: it answers again (stop does it
#                            first, so that a failed test still cleans up)
#
# initdb refuses to run as root, and CI runs as root: then the cluster
# belongs to the `postgres` system user (Debian's postgresql package makes
# it), and commands run as that user through runuser. The database user is
# `otelc`, a superuser trusted on the socket: nothing listens beyond it.
set -euo pipefail

usage="usage: cluster.sh start|stop|conninfo|pause|resume|hang|unhang STATE"
cmd=${1:?$usage}
state=${2:?$usage}

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

# Sends `signal` to the cluster's postmaster (the first line of
# postmaster.pid) and to each of its children (the backends, the
# checkpointer, the writers: all of them children of the postmaster).
# The postmaster first on SIGSTOP, so that it forks nothing afterwards.
signal_cluster() {
    local signal=$1 dir pid
    dir=$(cat "$state")
    [[ -f "$dir/data/postmaster.pid" ]] || return 0
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    [[ -n "$pid" ]] || return 0
    kill "-$signal" "$pid" 2>/dev/null || return 0
    pgrep -P "$pid" | xargs -r kill "-$signal" 2>/dev/null || true
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
    signal_cluster CONT
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
hang)
    signal_cluster STOP
    ;;
unhang)
    signal_cluster CONT
    ;;
*)
    echo "cluster.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
