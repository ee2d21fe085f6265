# Sourced by .ci/run: what the PFS tests of polar-storage and polar-replication (PfsClusterIT) need
# from Debian. `pfs` and `pfsdaemon` link libaio.so.1 (libaio1); mkfs.ext4 (e2fsprogs) makes the
# "another file system" device, lsblk and blkid come with util-linux, losetup with mount, pgrep (how
# PolarScale tells whether a pfsd runs) with procps. Only what is missing is installed. Without them (a
# user's machine, not root) the PFS ITs skip with their reason.
pfs_missing=()
dpkg -s libaio1 >/dev/null 2>&1 || pfs_missing+=(libaio1)
command -v mkfs.ext4 >/dev/null || pfs_missing+=(e2fsprogs)
command -v losetup >/dev/null || pfs_missing+=(mount)
command -v pgrep >/dev/null || pfs_missing+=(procps)
if [ ${#pfs_missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pfs_missing[@]}" >/dev/null
fi
echo "PFS test prerequisites: $(dpkg-query -W -f='${Package} ${Version}\n' libaio1 e2fsprogs | tr '\n' ' ')"
unset pfs_missing
