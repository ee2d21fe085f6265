# Sourced by .ci/run (root, repo root, set -euo pipefail): a container engine for the container
# tests (ContainerExecutorIT, ContainerScalerIT, PolarDbContainerIT).
#   - Debian's podman and runc (no image can be pulled here: only Maven Central and Debian's
#     packages are reachable);
#   - /etc/containers/containers.conf.d/50-polarscale.conf: no default ulimits (setting them fails
#     with EPERM in this sandbox) and the cgroupfs manager (no systemd). A drop-in, not
#     CONTAINERS_CONF, so podman run by hand, by the tests and by 'podman system service' all see it;
#   - the image localhost/polarscale/pg15: busybox-static plus this machine's PostgreSQL 15 (same
#     paths, since a cluster has one installation path on every host) and the libraries ldd lists,
#     imported from a root file system made here; rebuilt only when its inputs change;
#   - localhost/polarscale/polardb-local:15 when POLARDB_HOME names a PolarDB-PG installation: a
#     primary and two shared-storage replicas in one container, started by an entrypoint written
#     here, standing in for the public polardb/polardb_pg_local_instance image;
#   - TESTCONTAINERS_RYUK_DISABLED=true (with podman): Ryuk's image cannot be pulled; the tests
#     remove what they start.
# No service is left running: PolarDbContainerIT starts 'podman system service' itself and stops it.
# Where podman cannot run a container, this says why and the container tests skip with their reason.
# POLARSCALE_CONTAINER_ENGINE=docker builds the images into a running Docker instead (no podman).
if [ "$(id -u)" != 0 ]; then
  echo "not root: no container engine set up; the container tests will be skipped"
  return 0
fi
_pc_engine=${POLARSCALE_CONTAINER_ENGINE:-podman}

_pc_missing=""
if [ "$_pc_engine" = podman ]; then
  command -v podman >/dev/null || _pc_missing="$_pc_missing podman"
  command -v runc >/dev/null || _pc_missing="$_pc_missing runc"
  [ -x /usr/libexec/podman/catatonit ] || _pc_missing="$_pc_missing catatonit"
fi
dpkg -s busybox-static >/dev/null 2>&1 || _pc_missing="$_pc_missing busybox-static"
[ -x /usr/lib/postgresql/15/bin/postgres ] || _pc_missing="$_pc_missing postgresql-15"
if [ -n "$_pc_missing" ]; then
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $_pc_missing >/dev/null
fi

if [ "$_pc_engine" = podman ]; then
  mkdir -p /etc/containers/containers.conf.d
  _pc_conf=/etc/containers/containers.conf.d/50-polarscale.conf
  _pc_want='# written by PolarScale .ci/setup.d/40-containers.sh
[containers]
# the default ulimits cannot be set in this sandbox (setrlimit: EPERM)
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"'
  if [ "$(cat "$_pc_conf" 2>/dev/null)" != "$_pc_want" ]; then
    printf '%s\n' "$_pc_want" > "$_pc_conf"
  fi
fi

# Builds $1 (an image name) from the root file system that the function $2 fills in a fresh
# directory, unless an image of that name already carries the label polarscale.inputs=$3.
_pc_build_image() {
  local image=$1 fill=$2 inputs=$3 have root t0 rc=0
  have=$("$_pc_engine" image inspect --format '{{index .Config.Labels "polarscale.inputs"}}' "$image" 2>/dev/null || true)
  if [ "$have" = "$inputs" ]; then
    echo "$image is up to date"
    return 0
  fi
  t0=$(date +%s%N)
  root=$(mktemp -d /var/tmp/polarscale-rootfs.XXXXXX)
  "$fill" "$root"      # not in a condition, so set -e stops CI on a broken build step
  tar --numeric-owner -C "$root" -cf - . | "$_pc_engine" import $([ "$_pc_engine" = podman ] && echo --quiet) \
      --change "LABEL polarscale.inputs=$inputs" --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      "${@:4}" - "$image" >/dev/null || rc=$?
  rm -rf "$root"
  if [ "$rc" != 0 ]; then
    # the engine itself failed: say so and go on; the tests skip with their own probe's reason
    echo "$_pc_engine could not import $image (exit $rc)"
    return 0
  fi
  echo "built $image in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

# Copies each program's and library's shared libraries (as ldd lists them) into root $1,
# under their real /usr directories (the root has merged /usr, as Debian 12 has).
_pc_copy_libs() {
  local root=$1 lib dir
  shift
  for lib in $(for f in "$@"; do ldd "$f" 2>/dev/null; done \
               | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}' | sort -u); do
    dir=$(readlink -f "$(dirname "$lib")")
    mkdir -p "$root$dir"
    [ -e "$root$dir/$(basename "$lib")" ] || cp -L "$lib" "$root$dir/"
  done
}

# The base every PolarScale image shares: merged /usr, busybox applets, users root, postgres
# (this machine's uid and gid, so bind mounts keep their owner) and nobody, /tmp.
_pc_base_rootfs() {
  local root=$1 uid gid applet
  uid=$(id -u postgres 2>/dev/null || echo 999)
  gid=$(id -g postgres 2>/dev/null || echo 999)
  mkdir -p "$root"/usr/bin "$root"/usr/sbin "$root"/usr/lib64 "$root"/usr/lib/x86_64-linux-gnu "$root"/etc \
      "$root"/tmp "$root"/var/tmp "$root"/root "$root"/proc "$root"/sys "$root"/dev "$root"/run \
      "$root"/var/lib/postgresql "$root"/var/lib/polarscale "$root"/var/run/postgresql
  ln -s usr/bin "$root/bin"; ln -s usr/sbin "$root/sbin"; ln -s usr/lib "$root/lib"; ln -s usr/lib64 "$root/lib64"
  cp /bin/busybox "$root/usr/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/usr/bin/$applet"
  done
  chmod 1777 "$root/tmp" "$root/var/tmp"
  printf '%s\n' "root:x:0:0:root:/root:/bin/sh" "postgres:x:$uid:$gid:PostgreSQL:/var/lib/postgresql:/bin/sh" \
      "nobody:x:65534:65534:nobody:/nonexistent:/bin/false" > "$root/etc/passwd"
  printf '%s\n' "root:x:0:" "postgres:x:$gid:" "nogroup:x:65534:" > "$root/etc/group"
  printf '%s\n' "passwd: files" "group: files" "hosts: files" > "$root/etc/nsswitch.conf"
  printf '%s\n' "127.0.0.1 localhost" "::1 localhost" > "$root/etc/hosts"
  chown "$uid:$gid" "$root/var/lib/postgresql" "$root/var/run/postgresql"
  chown "$uid:$gid" "$root/var/lib/polarscale"
  chmod 0711 "$root/var/lib/polarscale"
}

_pc_pg15_rootfs() {
  local root=$1
  _pc_base_rootfs "$root"
  mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
  # without the JIT (its LLVM would triple the image): the server then runs without JIT
  tar -C /usr/lib/postgresql --exclude='15/lib/bitcode' --exclude='15/lib/llvmjit*' -cf - 15 \
      | tar -C "$root/usr/lib/postgresql" -xf -
  cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/"
  cp -a /usr/share/zoneinfo "$root/usr/share/"
  _pc_copy_libs "$root" /usr/lib/postgresql/15/bin/* $(ls "$root"/usr/lib/postgresql/15/lib/*.so)
}

_pc_pg15=localhost/polarscale/pg15:latest
_pc_build_image "$_pc_pg15" _pc_pg15_rootfs \
    "$( { /usr/lib/postgresql/15/bin/postgres --version; busybox | head -1; declare -f _pc_base_rootfs _pc_pg15_rootfs _pc_copy_libs; } | sha256sum | cut -c1-16)"

_pc_polardb_rootfs() {
  local root=$1 uid gid
  _pc_base_rootfs "$root"
  uid=$(id -u postgres 2>/dev/null || echo 999)
  gid=$(id -g postgres 2>/dev/null || echo 999)
  mkdir -p "$root/opt/polardb" "$root/var/polardb" "$root/usr/local/bin"
  cp -a "$POLARDB_HOME/bin" "$POLARDB_HOME/lib" "$POLARDB_HOME/share" "$root/opt/polardb/"
  rm -f "$root/usr/bin/bash" && cp /bin/bash "$root/usr/bin/bash"   # polar-initdb.sh is a bash script
  cp polar-examples/src/test/images/polardb-local/entrypoint.sh "$root/usr/local/bin/polardb-local-entrypoint"
  chmod 0755 "$root/usr/local/bin/polardb-local-entrypoint"
  chown "$uid:$gid" "$root/var/polardb"
  _pc_copy_libs "$root" /bin/bash $(find "$POLARDB_HOME/bin" "$POLARDB_HOME/lib" -type f \( -perm -u+x -o -name '*.so*' \))
}

if [ -n "${POLARDB_HOME:-}" ] && [ -x "$POLARDB_HOME/bin/polar-initdb.sh" ]; then
  _pc_build_image localhost/polarscale/polardb-local:15 _pc_polardb_rootfs \
      "$( { sha256sum "$POLARDB_HOME/bin/postgres" polar-examples/src/test/images/polardb-local/entrypoint.sh | cut -c1-64;
            busybox | head -1; declare -f _pc_base_rootfs _pc_polardb_rootfs _pc_copy_libs; } | sha256sum | cut -c1-16)" \
      --change "USER postgres" --change "WORKDIR /var/polardb" --change "EXPOSE 5432" --change "EXPOSE 5433" --change "EXPOSE 5434" \
      --change 'ENTRYPOINT ["/usr/local/bin/polardb-local-entrypoint"]'
else
  echo "no POLARDB_HOME: no PolarDB image; PolarDbContainerIT will be skipped"
fi

# Can the engine run a container here? Say why not; the tests then skip with their own probe's reason.
if ! _pc_out=$(timeout 60 "$_pc_engine" run --rm --network=host "$_pc_pg15" /usr/lib/postgresql/15/bin/postgres --version 2>&1); then
  echo "$_pc_engine cannot run a container here; the container tests will be skipped: $_pc_out"
else
  echo "$_pc_engine $("$_pc_engine" version --format '{{.Client.Version}}') runs containers: $_pc_out"
fi

# with Podman, Ryuk's image cannot be pulled: the tests remove what they start
if [ "$_pc_engine" = podman ]; then
  export TESTCONTAINERS_RYUK_DISABLED=true
fi
unset -f _pc_build_image _pc_copy_libs _pc_base_rootfs _pc_pg15_rootfs _pc_polardb_rootfs
unset _pc_engine _pc_missing _pc_conf _pc_want _pc_out _pc_pg15
