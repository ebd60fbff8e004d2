#!/usr/bin/env bash
# Installs what Harbor's tests need beyond Go modules: a ClickHouse server,
# ZooKeeper with a Java runtime for the ClickHouse cluster tests, and
# ClickHouse 26 as chDB (libchdb.so, from npm) for the tests on the current
# engine; FUSE's fusermount3 for the power-cut tests when not run as root.
# Debian's packages are installed for what is missing (root and
# apt-get needed); an official ClickHouse binary on PATH works as well.
set -euo pipefail

# chDB: the npm package @chdb/lib-linux-x64-gnu ships libchdb.so, ClickHouse
# built as a library; pkg/devenv looks for it under CHDB_DIR
# (devenv.ChDBLibraryDir), or wherever CHDB_LIB_PATH points.
CHDB_PACKAGE=@chdb/lib-linux-x64-gnu
CHDB_VERSION=26.7.3-stable.1
CHDB_DIR=/opt/harbor-chdb
chdb_lib="$CHDB_DIR/node_modules/$CHDB_PACKAGE/libchdb.so"
if [ -z "${CHDB_LIB_PATH:-}" ] && ! grep -qs "\"version\": \"$CHDB_VERSION\"" "$CHDB_DIR/node_modules/$CHDB_PACKAGE/package.json"; then
  if ! command -v npm >/dev/null; then
    echo "Missing $chdb_lib, and npm to install it ($CHDB_PACKAGE@$CHDB_VERSION): install npm, or set CHDB_LIB_PATH to a libchdb.so of 26.7 or later." >&2
    exit 1
  fi
  echo "Installing $CHDB_PACKAGE@$CHDB_VERSION (libchdb.so, ClickHouse 26) into $CHDB_DIR..."
  mkdir -p "$CHDB_DIR"
  npm install --prefix "$CHDB_DIR" --no-save --no-audit --no-fund --loglevel=error "$CHDB_PACKAGE@$CHDB_VERSION"
  [ -f "$chdb_lib" ] || { echo "npm installed $CHDB_PACKAGE but $chdb_lib is missing" >&2; exit 1; }
fi

packages=()
if ! command -v clickhouse-server >/dev/null && [ ! -x /usr/sbin/clickhouse-server ] && ! command -v clickhouse >/dev/null; then
  packages+=(clickhouse-server clickhouse-client)
fi
# pkg/devenv runs ZooKeeper's server jar with java. libzookeeper-java holds
# the jar and the libraries it needs; the zookeeper package would add only
# scripts, and a dependency on the graphical Java runtime.
if [ ! -f /usr/share/java/zookeeper.jar ]; then
  packages+=(libzookeeper-java)
fi
if ! command -v java >/dev/null; then
  packages+=(default-jre-headless)
fi
# The power-cut tests mount a FUSE filesystem (e2e/internal/powerfs): root
# mounts it directly through /dev/fuse, other users need fusermount3.
if [ "$(id -u)" != 0 ] && ! command -v fusermount3 >/dev/null && ! command -v fusermount >/dev/null; then
  packages+=(fuse3)
fi
if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Missing ${packages[*]}, and this script cannot install them (needs root and apt-get)." >&2
  echo "Install Debian's packages of that name (for ClickHouse, the official clickhouse binary on PATH works too)." >&2
  exit 1
fi
echo "Installing Debian's packages: ${packages[*]}..."
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
