#!/bin/sh
# Kinto as a gameday target: create or upgrade its schema in PostgreSQL (idempotent), then serve on 127.0.0.1:PORT.
#   usage: kinto.sh PYTHON PORT      (PYTHON: the one Kinto is installed in; gameday's {python})
# KINTO_STORAGE_URL and KINTO_PERMISSION_URL (the scenario's env) say where PostgreSQL is.
set -eu
cli='import sys; from kinto.__main__ import main; sys.exit(main())'
"$1" -c "$cli" migrate --ini kinto.ini -q
exec "$1" -c "$cli" start --ini kinto.ini --port "$2"
