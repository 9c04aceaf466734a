#!/bin/sh
# PostgreSQL as a gameday target: a fresh cluster in DATA (gameday's {data}: a folder in the run folder, kept
# across restarts, removed when the run's targets stop), listening on 127.0.0.1:PORT only, no Unix socket.
#   usage: postgres.sh DATA PORT
# PostgreSQL refuses to run as root: as root it runs as the user "postgres" (override: PGUSER_OS).
set -eu
data=$1 port=$2
cluster=$data/cluster
user=${PGUSER_OS:-postgres}
if [ "$(id -u)" = 0 ]; then
  id "$user" >/dev/null 2>&1 || {
    echo "postgres.sh: gameday runs as root and PostgreSQL refuses root; create the user it runs as:" \
         "useradd --system $user (or set PGUSER_OS)" >&2; exit 1; }
  chown "$user" "$data"
  setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups test -w "$data" || {
    echo "postgres.sh: user $user cannot write $data: make the run folder's parents traversable" \
         "(chmod o+x) or run gameday as an unprivileged user" >&2; exit 1; }
  as_owner="setpriv --reuid=$user --regid=$(id -g "$user") --init-groups --"
else
  as_owner=""
fi
if [ ! -f "$cluster/PG_VERSION" ]; then
  # -U kinto: the superuser is the example's database user; trust: loopback only, a throwaway cluster
  $as_owner initdb -D "$cluster" -U kinto -A trust -E UTF8 --no-sync >"$data/initdb.log" 2>&1 || {
    echo "postgres.sh: initdb failed:" >&2; tail -5 "$data/initdb.log" >&2; exit 1; }
fi
# exec: the server is the process gameday started (its signals, its process group, its memory)
exec $as_owner postgres -D "$cluster" -p "$port" -c listen_addresses=127.0.0.1 -c unix_socket_directories= \
  -c fsync=off -c max_connections=50 -c shared_buffers=32MB
