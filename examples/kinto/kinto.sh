#!/bin/sh
# Kinto as a gameday target: create or upgrade its schema in PostgreSQL once, then serve on 127.0.0.1:PORT.
#   usage: kinto.sh PYTHON PORT DATA
# PYTHON: the one Kinto is installed in (gameday's {python}); DATA: a folder kept across restarts (gameday's
# {data}), where a marker says the schema is done, so a restart (a crash, a release switch) only starts the
# server. KINTO_STORAGE_URL and KINTO_PERMISSION_URL (the scenario's env) say where PostgreSQL is.
set -eu
cli='import sys; from kinto.__main__ import main; sys.exit(main())'
if [ ! -f "$3/schema-migrated" ]; then
  "$1" -c "$cli" migrate --ini kinto.ini -q
  touch "$3/schema-migrated"
fi
exec "$1" -c "$cli" start --ini kinto.ini --port "$2"
