#!/bin/sh
# Entrypoint of localhost/polarscale/polardb-local:15, which .ci/setup.d/40-containers.sh builds
# from POLARDB_HOME where polardb/polardb_pg_local_instance:15 cannot be pulled. It behaves as that
# image's documentation says: a PolarDB-PG 15 primary on $POLARDB_PORT (default 5432) and two
# read-only replicas on the next two ports, all on one shared-storage directory (local-file-system
# mode), superuser $POLARDB_USER with password $POLARDB_PASSWORD (scram-sha-256 over TCP).
# The configuration is the one polardb-facts.md records as working. Runs as the image's
# unprivileged user; stops the three servers on SIGTERM/SIGINT.
set -eu
PGHOME=/opt/polardb
BIN=$PGHOME/bin
PORT=${POLARDB_PORT:-5432}
USER_NAME=${POLARDB_USER:-postgres}
PASSWORD=${POLARDB_PASSWORD:-}
DATA=/var/polardb
SHARED=$DATA/shared_data
SOCK=/tmp

log() { echo "polardb-local: $*"; }

stop_all() {
  for n in replica2 replica1 primary; do
    [ -f "$DATA/$n/postmaster.pid" ] && "$BIN/pg_ctl" stop -D "$DATA/$n" -m fast -w >/dev/null 2>&1 || true
  done
}
trap 'stop_all; exit 0' TERM INT

common_conf() { # $1 port, $2 polar_hostid
  cat <<CONF
port=$1
polar_hostid=$2
polar_enable_shared_storage_mode=on
polar_disk_name='home'
polar_datadir='file-dio://$SHARED/'
polar_vfs.localfs_mode=on
shared_preload_libraries='\$libdir/polar_vfs,\$libdir/polar_worker'
logging_collector=on
log_line_prefix='%p\t%r\t%u\t%m\t'
log_directory='pg_log'
listen_addresses='*'
unix_socket_directories='$SOCK'
CONF
}

if [ ! -f "$DATA/primary/PG_VERSION" ]; then
  log "initialising a primary on port $PORT and replicas on $((PORT + 1)), $((PORT + 2))"
  mkdir -p "$DATA/primary" "$SHARED" "$DATA/template"
  chmod 0700 "$DATA/primary"
  pwfile=$(mktemp)
  printf '%s\n' "${PASSWORD:-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}" > "$pwfile"
  "$BIN/initdb" -D "$DATA/primary" -U "$USER_NAME" --pwfile="$pwfile" -E UTF8 --locale=C \
      --auth-local=trust --auth-host=scram-sha-256 --no-sync >/dev/null
  rm -f "$pwfile"
  # the replicas' configuration files come from a fresh initdb: this one, before it is changed
  cp "$DATA/primary/postgresql.conf" "$DATA/primary/pg_hba.conf" "$DATA/primary/pg_ident.conf" "$DATA/template/"
  "$BIN/polar-initdb.sh" "$DATA/primary/" "$SHARED/" primary localfs >/dev/null
  common_conf "$PORT" 1 >> "$DATA/primary/postgresql.conf"
  printf '%s\n' "host all all 0.0.0.0/0 scram-sha-256" "host all all ::/0 scram-sha-256" \
      >> "$DATA/primary/pg_hba.conf"
fi
"$BIN/pg_ctl" start -D "$DATA/primary" -l "$DATA/primary.log" -w -t 120 >/dev/null
log "primary started"

n=1
while [ $n -le 2 ]; do
  r=replica$n
  "$BIN/psql" -h "$SOCK" -p "$PORT" -U "$USER_NAME" -d postgres -qAt -v ON_ERROR_STOP=1 -c \
      "SELECT pg_create_physical_replication_slot('$r') WHERE NOT EXISTS
         (SELECT FROM pg_replication_slots WHERE slot_name = '$r')" >/dev/null
  if [ ! -f "$DATA/$r/postgresql.conf" ]; then
    mkdir -p "$DATA/$r" && chmod 0700 "$DATA/$r"
    "$BIN/polar-initdb.sh" "$DATA/$r/" "$SHARED/" replica localfs >/dev/null
    cp "$DATA/template/"* "$DATA/$r/"
    common_conf $((PORT + n)) $((n + 1)) >> "$DATA/$r/postgresql.conf"
    cat >> "$DATA/$r/postgresql.conf" <<CONF
primary_conninfo='host=$SOCK port=$PORT user=$USER_NAME dbname=postgres application_name=$r'
primary_slot_name='$r'
CONF
    printf '%s\n' "host all all 0.0.0.0/0 scram-sha-256" "host all all ::/0 scram-sha-256" \
        >> "$DATA/$r/pg_hba.conf"
    touch "$DATA/$r/replica.signal"
  fi
  "$BIN/pg_ctl" start -D "$DATA/$r" -l "$DATA/$r.log" -w -t 120 >/dev/null
  log "$r started on port $((PORT + n))"
  n=$((n + 1))
done
log "ready: primary $PORT, replicas $((PORT + 1)) $((PORT + 2))"
while :; do
  sleep 3600 &
  wait $! || true
done
