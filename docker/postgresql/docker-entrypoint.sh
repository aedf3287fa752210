#!/usr/bin/env bash
# Entrypoint of the local PostgreSQL image (docker/postgresql): on first start, initialise PGDATA
# for POSTGRES_USER with POSTGRES_PASSWORD (scram-sha-256 over TCP) and create POSTGRES_DB; then
# run the server listening on every address. Later starts find PG_VERSION and only run the server.
set -euo pipefail

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=${POSTGRES_USER}}"
: "${PGDATA:?PGDATA must name the data directory}"

if [[ "${1:-}" != postgres ]]; then
  exec "$@"
fi
if [[ -z "${POSTGRES_PASSWORD:-}" ]]; then
  echo "docker-entrypoint: POSTGRES_PASSWORD is empty; set it (the chart takes it from a Secret)" >&2
  exit 1
fi

# initdb and the server look their uid up; give an unknown uid a name for this process tree.
if ! getent passwd "$(id -u)" >/dev/null; then
  NSS_WRAPPER_PASSWD="$(mktemp)"
  NSS_WRAPPER_GROUP="$(mktemp)"
  echo "postgres:x:$(id -u):$(id -g):PostgreSQL:${PGDATA}:/bin/false" >"${NSS_WRAPPER_PASSWD}"
  echo "postgres:x:$(id -g):" >"${NSS_WRAPPER_GROUP}"
  export LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
fi

mkdir -p "${PGDATA}"
chmod 0700 "${PGDATA}"
if [[ ! -s "${PGDATA}/PG_VERSION" ]]; then
  echo "docker-entrypoint: initialising ${PGDATA} for user ${POSTGRES_USER}, database ${POSTGRES_DB}"
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD}" >"${pwfile}"
  initdb --pgdata "${PGDATA}" --username "${POSTGRES_USER}" --pwfile "${pwfile}" \
    --auth-local trust --auth-host scram-sha-256 --encoding UTF8 >/dev/null
  rm -f "${pwfile}"
  # Clients connect over TCP from other pods.
  echo "host all all all scram-sha-256" >>"${PGDATA}/pg_hba.conf"
  if [[ "${POSTGRES_DB}" != postgres ]]; then
    # A server on the socket only, for creating the database, stopped again before the real start.
    pg_ctl --pgdata "${PGDATA}" --options "-c listen_addresses=''" --wait --silent start
    psql --username "${POSTGRES_USER}" --dbname postgres --quiet --set ON_ERROR_STOP=1 \
      --command "CREATE DATABASE \"${POSTGRES_DB}\""
    pg_ctl --pgdata "${PGDATA}" --mode fast --wait --silent stop
  fi
fi
unset POSTGRES_PASSWORD
exec postgres -D "${PGDATA}" -c listen_addresses='*' "${@:2}"
