# Sourced by .ci/run: extracts the prebuilt PolarDB-PG 15 (with PFS) into target/ and exports
# POLARDB_HOME. Without the bundle (a user's machine) the PolarDB tests skip with their reason.
engines=../shared/engines
bundle=polardb15-pfs-linux-amd64.tar.zst
if [ -f "$engines/$bundle" ]; then
  (cd "$engines" && sha256sum --quiet -c SHA256SUMS)
  command -v zstd >/dev/null || { apt-get update -qq && apt-get install -y -qq zstd >/dev/null; }
  dest=$PWD/target/engines
  rm -rf "$dest" && mkdir -p "$dest"
  tar -I zstd -xf "$engines/$bundle" -C "$dest"
  # the servers run as an unprivileged OS user: every directory down to the binaries must let it through
  chmod 0755 "$PWD/target" "$dest"
  export POLARDB_HOME=$dest/polardb15-pfs
  echo "POLARDB_HOME=$POLARDB_HOME ($("$POLARDB_HOME/bin/postgres" --version))"
else
  echo "no $engines/$bundle: the PolarDB tests will be skipped"
fi
