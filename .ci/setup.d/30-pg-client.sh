# Sourced by .ci/run: ReplicationSlotManagerIT streams from a slot with pg_receivewal, which is in
# Debian's postgresql-client-15. Where it is missing (and not installed here) those tests are
# reported as skipped with the reason.
if [ ! -x /usr/lib/postgresql/15/bin/pg_receivewal ] && command -v apt-get >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client-15 >/dev/null
fi
