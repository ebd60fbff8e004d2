#!/usr/bin/env bash
# Installs what Harbor's tests need beyond Go modules: a ClickHouse server,
# and ZooKeeper with a Java runtime for the ClickHouse cluster tests; FUSE's
# fusermount3 for the power-cut tests when not run as root.
# Debian's packages are installed for what is missing (root and apt-get
# needed); an official ClickHouse binary on PATH works as well.
set -euo pipefail

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
