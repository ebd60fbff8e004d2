#!/usr/bin/env bash
# bench.sh measures Harbor on this machine with cmd/loadgen, against a fresh
# cmd/harbor-local (embedded NATS, its own clickhouse-server, API, one writer)
# on 127.0.0.1 only, and appends the results to docs/benchmarks.md.
#
# Scenarios:
#   1. batch:  READINGS readings, 5000 per request, 4 connections, -verify
#   2. rate:   1000 per request, 4 connections, at half the rate of (1), for
#              RATE_SECONDS: latency under a steady load
#   3. single: SINGLE_REQUESTS requests of one reading, 32 connections, -verify
#   4. direct: READINGS rows straight into ClickHouse, 100,000 per insert,
#              one inserter (like the one writer): the sink's own limit
#
# Settings (environment): READINGS (10000000), SINGLE_REQUESTS (100000),
# RATE_SECONDS (30), API_PORT (18480), NATS_PORT (14622), CH_PORT (19400),
# WRITER_PORT (18481, the writer's probes and metrics),
# MAX_DURATION (15m, bound on each send phase and each wait for rows),
# BENCH_OUT (docs/benchmarks.md), KEEP=1 keeps the temporary directory.
#
#   scripts/bench.sh                  # the full run
#   READINGS=1000000 scripts/bench.sh # a quicker one
set -euo pipefail
cd "$(dirname "$0")/.."

READINGS=${READINGS:-10000000}
SINGLE_REQUESTS=${SINGLE_REQUESTS:-100000}
RATE_SECONDS=${RATE_SECONDS:-30}
API_PORT=${API_PORT:-18480}
NATS_PORT=${NATS_PORT:-14622}
CH_PORT=${CH_PORT:-19400}
WRITER_PORT=${WRITER_PORT:-18481}
MAX_DURATION=${MAX_DURATION:-15m}
BENCH_OUT=${BENCH_OUT:-docs/benchmarks.md}

command -v jq >/dev/null || { echo "bench.sh needs jq (apt-get install jq)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench.sh needs curl (apt-get install curl)" >&2; exit 1; }

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/harbor-bench.XXXXXX")
HARBOR_PID=""

cleanup() {
	local rc=$?
	if [[ -n "$HARBOR_PID" ]] && kill -0 "$HARBOR_PID" 2>/dev/null; then
		echo "stopping harbor-local ($HARBOR_PID)" >&2
		kill -TERM "$HARBOR_PID" 2>/dev/null || true
		for _ in $(seq 1 60); do
			kill -0 "$HARBOR_PID" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL "$HARBOR_PID" 2>/dev/null || true
		wait "$HARBOR_PID" 2>/dev/null || true
	fi
	if [[ "${KEEP:-0}" == 1 ]]; then
		echo "kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$API_PORT" "$NATS_PORT" "$CH_PORT" "$WRITER_PORT"; do
	port_free "$port" || { echo "port $port is in use: set API_PORT, NATS_PORT, CH_PORT or WRITER_PORT" >&2; exit 1; }
done

echo "building into $WORK/bin" >&2
go build -o "$WORK/bin/harbor-local" ./cmd/harbor-local
go build -o "$WORK/bin/loadgen" ./cmd/loadgen

# One harbor and key per scenario, so that each -verify count is exact.
RUN=$(date +%s)
H_BATCH=bench-batch-$RUN H_RATE=bench-rate-$RUN H_SINGLE=bench-single-$RUN H_DIRECT=bench-$RUN
K_BATCH=key-batch-$RUN K_RATE=key-rate-$RUN K_SINGLE=key-single-$RUN

echo "starting harbor-local (data in $WORK/data)" >&2
HARBOR_DATA_DIR="$WORK/data" \
	LOCAL_NATS_PORT="$NATS_PORT" LOCAL_CLICKHOUSE_PORT="$CH_PORT" \
	LISTEN_ADDR="127.0.0.1:$API_PORT" \
	API_KEYS="$K_BATCH:$H_BATCH,$K_RATE:$H_RATE,$K_SINGLE:$H_SINGLE" \
	HTTP_ADDR="127.0.0.1:$WRITER_PORT" LOG_FORMAT=text LOG_LEVEL=info \
	"$WORK/bin/harbor-local" >"$WORK/harbor-local.log" 2>&1 &
HARBOR_PID=$!

URL="http://127.0.0.1:$API_PORT"
for i in $(seq 1 240); do
	curl -sf "$URL/readyz" >/dev/null 2>&1 && break
	kill -0 "$HARBOR_PID" 2>/dev/null || { echo "harbor-local exited:" >&2; tail -20 "$WORK/harbor-local.log" >&2; exit 1; }
	[[ $i == 240 ]] && { echo "harbor-local not ready after 120s" >&2; tail -20 "$WORK/harbor-local.log" >&2; exit 1; }
	sleep 0.5
done
# The writer creates the table when it has reached ClickHouse; wait for it
# too, so that scenario 1 does not time the writer's start.
for _ in $(seq 1 120); do
	grep -q "writer running" "$WORK/harbor-local.log" && break
	sleep 0.5
done
CH_PID=$(ps --ppid "$HARBOR_PID" -o pid=,comm= | awk '$2 ~ /clickhouse/ {print $1; exit}')
echo "harbor-local ready: pid $HARBOR_PID, clickhouse-server pid ${CH_PID:-?}" >&2

# Peak resident memory (VmHWM) in MiB; reset_peak starts a new peak (Linux
# 4.0 and later, for a process we may write to), so each scenario has its own.
peak_mib() { awk '/^VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
reset_peak() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
# CPU time in clock ticks: of a process (user + system), and of the whole
# machine (every state but idle and iowait), to tell each process's share
# and any load from outside the benchmark.
TICK=$(getconf CLK_TCK)
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

LOADGEN=("$WORK/bin/loadgen" -url "$URL" -clickhouse "127.0.0.1:$CH_PORT" -json -progress 10s
	-max-duration "$MAX_DURATION" -verify-timeout "$MAX_DURATION")
ROWS=()

# scenario ID NAME ARGS...: runs loadgen, keeps its JSON report in ID.json
# and a table row.
scenario() {
	local id=$1 name=$2
	shift 2
	reset_peak "$HARBOR_PID"
	[[ -n "$CH_PID" ]] && reset_peak "$CH_PID"
	echo "== $name: loadgen $*" >&2
	local h0 c0 b0 rc=0
	h0=$(proc_ticks "$HARBOR_PID") c0=$(proc_ticks "${CH_PID:-0}") b0=$(busy_ticks)
	"${LOADGEN[@]}" "$@" >"$WORK/$id.json" || rc=$?
	local cpu_h cpu_c cpu_all
	cpu_h=$(((($(proc_ticks "$HARBOR_PID") - h0) * 100 / TICK)))
	cpu_c=$(((($(proc_ticks "${CH_PID:-0}") - c0) * 100 / TICK)))
	cpu_all=$(((($(busy_ticks) - b0) * 100 / TICK)))
	local rss ch_rss
	rss=$(peak_mib "$HARBOR_PID")
	ch_rss=$([[ -n "$CH_PID" ]] && peak_mib "$CH_PID" || echo "?")
	if [[ ! -s "$WORK/$id.json" ]]; then
		echo "$name: loadgen failed (exit $rc) without a report" >&2
		exit 1
	fi
	[[ $rc == 0 ]] || echo "$name: loadgen exit $rc (see the row)" >&2
	ROWS+=("$(jq -r --arg name "$name" --arg rss "$rss" --arg chrss "$ch_rss" \
		--argjson h "$cpu_h" --argjson c "$cpu_c" --argjson all "$cpu_all" '
		def r0(x): if x == null or x == 0 then "–" else (x | round | tostring) end;
		def r2(x): if x == null then "–" else ((x * 100 | round) / 100 | tostring) end;
		"| \($name) | \(.readings) | \(.requests) | \(r2(.seconds)) | \(r0(.readings_per_sec)) | \(r0(.requests_per_sec)) | "
		+ "\(r2(.latency_ms.p50)) / \(r2(.latency_ms.p95)) / \(r2(.latency_ms.p99)) / \(r2(.latency_ms.max)) | "
		+ "\(.non_2xx) / \(.errors) | "
		+ (if .verify == null then "– | –" elif .verify.ok then "\(r0(.verify.end_to_end_per_sec)) | \(r2(.verify.catch_up_seconds))" else "FAILED: \(.verify.rows) of \(.verify.want) rows | –" end)
		+ " | \($rss) | \($chrss) | "
		+ "\($h / 100) / \($c / 100) / \(.cpu_seconds * 100 | round / 100) / \([($all - $h - $c) / 100 - .cpu_seconds, 0] | max * 100 | round / 100) |"' "$WORK/$id.json")")
	echo "${ROWS[-1]}" >&2
}

scenario s1 "1 batch 5000 ×4" -harbor "$H_BATCH" -key "$K_BATCH" -mode batch -batch 5000 -conns 4 \
	-readings "$READINGS" -verify
MAX_RATE=$(jq '.readings_per_sec' "$WORK/s1.json")
HALF=$(jq -n --argjson r "$MAX_RATE" '$r / 2 | floor')
scenario s2 "2 batch 1000 ×4 at ${HALF}/s" -harbor "$H_RATE" -key "$K_RATE" -mode batch -batch 1000 -conns 4 \
	-rate "$HALF" -readings "$((HALF * RATE_SECONDS))" -verify
scenario s3 "3 single ×32" -harbor "$H_SINGLE" -key "$K_SINGLE" -mode single -conns 32 \
	-readings "$SINGLE_REQUESTS" -verify
scenario s4 "4 direct 100k ×1" -harbor "$H_DIRECT" -direct -direct-batch 100000 -conns 1 \
	-readings "$READINGS" -verify

ch_version=$(/usr/sbin/clickhouse-server --version 2>/dev/null | head -1 || true)
[[ -n "$ch_version" ]] || ch_version="clickhouse-server $(dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null || clickhouse-client --version 2>/dev/null || echo unknown)"
SECTION=$(
	cat <<EOF

## $(date -u '+%Y-%m-%d %H:%M UTC'): READINGS=$READINGS

- machine: $(nproc) cores ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)), $(free -h | awk '/^Mem:/ {print $2}') memory, Linux $(uname -r)
- $(go version), $ch_version
- load average before the run: $LOAD0
- commit $(git rev-parse --short HEAD 2>/dev/null || echo "?")$(git diff --quiet HEAD -- 2>/dev/null || echo " with local changes")
- command: \`READINGS=$READINGS SINGLE_REQUESTS=$SINGLE_REQUESTS RATE_SECONDS=$RATE_SECONDS scripts/bench.sh\`
- data set: 100 ships × 10 cargos, readings one second apart per series; one harbor-local (API, embedded NATS, one writer, FLUSH_INTERVAL 1s, BATCH_ROWS 100000) and its clickhouse-server

| scenario | readings | requests | send s | readings/s | requests/s | latency ms p50 / p95 / p99 / max | non-2xx / errors | end-to-end readings/s | catch-up s | peak RSS harbor-local MiB | peak RSS clickhouse MiB | CPU s harbor-local / clickhouse / loadgen / other |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")

<details><summary>free -h</summary>

\`\`\`
$(free -h)
\`\`\`
</details>
EOF
)

mkdir -p "$(dirname "$BENCH_OUT")"
if [[ ! -f "$BENCH_OUT" ]]; then
	cat >"$BENCH_OUT" <<'EOF'
# Benchmarks

Measured with `scripts/bench.sh` (cmd/loadgen against a fresh cmd/harbor-local
on 127.0.0.1). Each run appends a section.

- **readings/s, requests/s**: over the send phase, from the first request to the
  last answer; a 200 means JetStream stored the readings.
- **latency**: of each request, from sending it to reading its whole answer.
- **end-to-end readings/s**: readings answered 200 over the time from the first
  request to the moment ClickHouse showed the last of them (`count() ... FINAL`,
  polled every 100 ms); **catch-up** is the part of it after the last answer.
- **direct**: the same rows inserted straight into ClickHouse with the writer's
  store (columnar batches of 100,000 rows, one inserter): the sink's own limit.
  Its latency is per insert.
- **peak RSS**: VmHWM of the harbor-local process (API, NATS, writer) and of its
  clickhouse-server, reset before each scenario.
- **CPU s**: CPU time used during the scenario (send phase and the wait for the
  rows) by harbor-local, its clickhouse-server, loadgen, and everything else on
  the machine; a large "other" means the numbers were disturbed.
EOF
fi
printf '%s\n' "$SECTION" >>"$BENCH_OUT"
printf '%s\n' "$SECTION"
echo "appended to $BENCH_OUT" >&2
