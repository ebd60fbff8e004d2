#!/usr/bin/env bash
# Installs what Harbor's tests need beyond Go modules: a ClickHouse server.
# Debian's clickhouse-server package is used when none is found (root and
# apt-get needed); an official ClickHouse binary on PATH works as well.
set -euo pipefail

if command -v clickhouse-server >/dev/null || [ -x /usr/sbin/clickhouse-server ] || command -v clickhouse >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "ClickHouse is not installed and this script cannot install it (needs root and apt-get)." >&2
  echo "Install clickhouse-server, or put the official clickhouse binary on PATH." >&2
  exit 1
fi
echo "Installing Debian's clickhouse-server package..."
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends clickhouse-server clickhouse-client
