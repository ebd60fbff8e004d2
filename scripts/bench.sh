#!/usr/bin/env bash
# bench.sh measures Harbor on this machine with cmd/loadgen, against a fresh
# pipeline on 127.0.0.1 only whose parts are processes of their own, each
# measured on its own:
#
#   harbor-local     LOCAL_RUN_SERVICES=false: the embedded NATS server only,
#                    and the clickhouse-server it starts (its child)
#   ingest-api       one (go build ./services/ingest-api), and for scenario 5 a
#                    second one with PUBLISH_COALESCE=false
#   writer × WRITERS (go build ./services/writer), sharing the consumer
#
# and appends the results to docs/benchmarks.md: per scenario the peak RSS
# (VmHWM, reset before each scenario) and the CPU seconds of each process.
#
# Scenarios (SCENARIOS picks some, in this order; 2 needs 1):
#   1. batch:  READINGS readings, 5000 per request, 4 connections, -verify
#   2. rate:   1000 per request, 4 connections, at half the rate of (1), for
#              RATE_SECONDS: latency under a steady load
#   3. single: SINGLE_REQUESTS requests of one reading, 32 connections, -verify
#              (the API's group commit combines concurrent ones)
#   4. direct: READINGS rows straight into ClickHouse, 100,000 per insert,
#              one inserter (like one writer): the sink's own limit
#   5. single without group commit: as 3, against the second ingest-api
#              (PUBLISH_COALESCE=false): a message, and a sync, per request
#   6. spread: as 3, the requests spread over HARBORS harbors in turn
#   7. line protocol: as (1), the same readings as InfluxDB line protocol to
#              /api/v2/write, one point per reading: its readings/s beside (1)'s
#   8. ndjson, 9. csv: as (1), the same readings as NDJSON and as CSV
#
# NATS syncs each message to disk before acknowledging it, as Harbor ships
# it; LOCAL_NATS_SYNC_ALWAYS=false measures nats-server's default (a sync
# every 2 minutes) instead. ClickHouse is the installed clickhouse-server
# (Debian's 18.16 here, the legacy table); LOCAL_CLICKHOUSE=chdb measures
# ClickHouse 26 (chDB, over HTTP) and a current server's table instead.
#
# Before it starts anything it waits for a quiet machine: the 1-minute load
# average below QUIET_LOAD and no process it did not start that is a
# `go test`, a test binary (*.test), a clickhouse-server, a java (ZooKeeper)
# or a nats-server; it looks every QUIET_POLL seconds for at most QUIET_WAIT
# seconds, then measures anyway and says so in the section. After a quiet
# start it waits the same way before each scenario (so the previous one's
# merges and others' tests are over), and measures a scenario again, up to
# RETRIES times, when others disturbed it: a process of theirs seen before
# or while it ran, or "other" CPU above a tenth of the machine. The section
# notes what was discarded, and why.
#
# Settings (environment): READINGS (10000000), SINGLE_REQUESTS (100000),
# RATE_SECONDS (30), WRITERS (1), HARBORS (100, of scenario 6),
# SCENARIOS ("1 2 3 4 5 6 7 8 9"), API_PORT (18480), API_NC_PORT (18479, the
# ingest-api without group commit),
# NATS_PORT (14622), CH_PORT (19400), WRITER_PORT (18481: the first writer's
# probes and metrics, the next ones on the following ports),
# MAX_DURATION (15m, bound on each send phase and each wait for rows),
# SETTLE_MAX (120, seconds to wait at most after each scenario for
# ClickHouse's merges, which its "with merges" CPU counts),
# WRITER_GOMEMLIMIT (250MiB, the writers' GOMEMLIMIT, as their image sets it;
# empty: Go's default), QUIET_LOAD (0.6), QUIET_WAIT (1500), QUIET_POLL (30),
# RETRIES (2), LOCAL_CLICKHOUSE (server, or chdb),
# BENCH_OUT (docs/benchmarks.md), KEEP=1 keeps the temporary directory.
#
#   scripts/bench.sh                          # the full run
#   READINGS=1000000 scripts/bench.sh         # a quicker one
#   WRITERS=2 SCENARIOS="1 4" scripts/bench.sh  # batch with two writers, and the direct baseline

# One block, read whole before it runs: editing this file during a run (it
# takes minutes) cannot change or break the run.
{
set -euo pipefail
cd "$(dirname "$0")/.."

READINGS=${READINGS:-10000000}
SINGLE_REQUESTS=${SINGLE_REQUESTS:-100000}
RATE_SECONDS=${RATE_SECONDS:-30}
WRITERS=${WRITERS:-1}
HARBORS=${HARBORS:-100}
SCENARIOS=${SCENARIOS:-1 2 3 4 5 6 7 8 9}
API_PORT=${API_PORT:-18480}
API_NC_PORT=${API_NC_PORT:-18479}
LOCAL_NATS_SYNC_ALWAYS=${LOCAL_NATS_SYNC_ALWAYS:-true}
LOCAL_CLICKHOUSE=${LOCAL_CLICKHOUSE:-server}
NATS_PORT=${NATS_PORT:-14622}
CH_PORT=${CH_PORT:-19400}
WRITER_PORT=${WRITER_PORT:-18481}
MAX_DURATION=${MAX_DURATION:-15m}
# How long to wait, at most, after a scenario for ClickHouse's merges.
SETTLE_MAX=${SETTLE_MAX:-120}
# The writer's soft memory limit (Go's GOMEMLIMIT), as its image sets it.
WRITER_GOMEMLIMIT=${WRITER_GOMEMLIMIT-250MiB}
QUIET_LOAD=${QUIET_LOAD:-0.6}
QUIET_WAIT=${QUIET_WAIT:-1500}
QUIET_POLL=${QUIET_POLL:-30}
RETRIES=${RETRIES:-2}
BENCH_OUT=${BENCH_OUT:-docs/benchmarks.md}

command -v jq >/dev/null || { echo "bench.sh needs jq (apt-get install jq)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench.sh needs curl (apt-get install curl)" >&2; exit 1; }
[[ "$WRITERS" =~ ^[1-9][0-9]*$ ]] || { echo "WRITERS must be a positive number, not '$WRITERS'" >&2; exit 1; }
[[ "$RETRIES" =~ ^[0-9]+$ ]] || { echo "RETRIES must be a number, not '$RETRIES'" >&2; exit 1; }
[[ "$SETTLE_MAX" =~ ^[0-9]+$ ]] || { echo "SETTLE_MAX must be a number of seconds, not '$SETTLE_MAX'" >&2; exit 1; }
[[ "$HARBORS" =~ ^[1-9][0-9]*$ ]] || { echo "HARBORS must be a positive number, not '$HARBORS'" >&2; exit 1; }
SCENARIOS=${SCENARIOS//,/ }
for s in $SCENARIOS; do
	[[ "$s" =~ ^[1-9]$ ]] || { echo "SCENARIOS lists 1 to 9, not '$s'" >&2; exit 1; }
done
want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
if want 2 && ! want 1; then
	echo "scenario 2 runs at half the rate of scenario 1: SCENARIOS must list 1 too" >&2
	exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/harbor-bench.XXXXXX")
HARBOR_PID="" CH_PID="" API_PID="" API_NC_PID="" LG_PID=""
WRITER_PIDS=()

# stop NAME PID: SIGTERM, up to 30 s to exit (writers flush what they
# hold), then SIGKILL.
stop() {
	local name=$1 pid=$2
	[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
	echo "stopping $name ($pid)" >&2
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 60); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local rc=$?
	trap '' INT TERM # a second Ctrl-C must not cut the cleanup short
	stop loadgen "$LG_PID"
	stop ingest-api "$API_PID"
	stop "ingest-api without group commit" "$API_NC_PID"
	for i in "${!WRITER_PIDS[@]}"; do
		stop "writer $((i + 1))" "${WRITER_PIDS[$i]}"
	done
	stop harbor-local "$HARBOR_PID" # stops its clickhouse-server
	stop clickhouse-server "$CH_PID"
	if [[ "${KEEP:-0}" == 1 ]]; then
		echo "kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# foreign_procs lists the heavy processes this script did not start (go test,
# test binaries, clickhouse-server, java, nats-server), one a line: pid,
# program, the start of its arguments.
foreign_procs() {
	ps -eo pid=,ppid=,args= | awk -v self=$$ '
		{ pid = $1; parent[pid] = $2; $1 = ""; $2 = ""; sub(/^ +/, ""); cmd[pid] = $0 }
		END {
			for (p in cmd) {
				split(cmd[p], w, " "); n = split(w[1], path, "/"); exe = path[n]
				if (!(exe ~ /\.test$/ || (exe == "go" && w[2] == "test") || exe ~ /^clickhouse/ || exe == "harbor-chdb" || exe == "java" || exe == "nats-server")) continue
				q = p
				for (i = 0; i < 100 && q > 1 && q != self; i++) q = parent[q]
				if (q == self) continue
				rest = cmd[p]; sub(/^[^ ]+ */, "", rest)
				if (exe == "go") { exe = "go-test"; sub(/^test */, "", rest) }
				print p " " exe " " substr(rest, 1, 50)
			}
		}' | sort -n
}
load1() { cut -d' ' -f1 /proc/loadavg; }

# wait_quiet LOAD: waits (QUIET_POLL, at most QUIET_WAIT seconds) until no
# foreign process runs and, with LOAD=1, the 1-minute load average is below
# QUIET_LOAD. Returns 1 if that did not happen, with the reason in QUIET_WHY.
wait_quiet() {
	local with_load=$1 start=$SECONDS foreign l
	QUIET_WHY=""
	while :; do
		foreign=$(foreign_procs)
		l=$(load1)
		if [[ -z "$foreign" ]] && { [[ $with_load == 0 ]] || awk -v l="$l" -v m="$QUIET_LOAD" 'BEGIN { exit !(l < m) }'; }; then
			return 0
		fi
		QUIET_WHY="load average $l$([[ -n "$foreign" ]] && printf '; processes of others: %s' "$(tr '\n' ';' <<<"$foreign" | sed 's/;$//; s/;/; /g')")"
		if ((SECONDS - start >= QUIET_WAIT)); then
			echo "the machine is not quiet after ${QUIET_WAIT}s ($QUIET_WHY): measuring anyway" >&2
			return 1
		fi
		echo "waiting for a quiet machine: $QUIET_WHY" >&2
		sleep "$QUIET_POLL"
	done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
WRITER_PORTS=()
for i in $(seq 0 $((WRITERS - 1))); do WRITER_PORTS+=($((WRITER_PORT + i))); done
for port in "$API_PORT" "$API_NC_PORT" "$NATS_PORT" "$CH_PORT" "${WRITER_PORTS[@]}"; do
	port_free "$port" || { echo "port $port is in use: set API_PORT, API_NC_PORT, NATS_PORT, CH_PORT or WRITER_PORT" >&2; exit 1; }
done

echo "building into $WORK/bin" >&2
go build -o "$WORK/bin/harbor-local" ./cmd/harbor-local
go build -o "$WORK/bin/ingest-api" ./services/ingest-api
go build -o "$WORK/bin/writer" ./services/writer
go build -o "$WORK/bin/loadgen" ./cmd/loadgen

NOTES=()
QUIET=1 QUIET_START=$SECONDS
if wait_quiet 1; then
	NOTES+=("quiet machine (load average below $QUIET_LOAD, no test, ClickHouse, Java or NATS processes of others) after $((SECONDS - QUIET_START)) s of waiting")
else
	QUIET=0
	NOTES+=("**the machine did not get quiet within $QUIET_WAIT s** ($QUIET_WHY): measured anyway")
fi
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# One harbor and key per scenario and attempt, so that each -verify count is
# exact: key-KIND-RUN-A opens bench-KIND-RUN-A; for the spread scenario
# key-spread-RUN-A-I opens bench-spread-RUN-A-I, I from 0 to HARBORS-1.
RUN=$(date +%s)
KEYS=""
for kind in batch rate single single-nc lp ndjson csv; do
	for a in $(seq 1 $((RETRIES + 1))); do KEYS+="${KEYS:+,}key-$kind-$RUN-$a:bench-$kind-$RUN-$a"; done
done
if want 6; then
	for a in $(seq 1 $((RETRIES + 1))); do
		for i in $(seq 0 $((HARBORS - 1))); do KEYS+=",key-spread-$RUN-$a-$i:bench-spread-$RUN-$a-$i"; done
	done
fi

echo "starting harbor-local: NATS and ClickHouse only (data in $WORK/data)" >&2
HARBOR_DATA_DIR="$WORK/data" LOCAL_RUN_SERVICES=false LOCAL_NATS_SYNC_ALWAYS="$LOCAL_NATS_SYNC_ALWAYS" LOCAL_CLICKHOUSE="$LOCAL_CLICKHOUSE" \
	LOCAL_NATS_PORT="$NATS_PORT" LOCAL_CLICKHOUSE_PORT="$CH_PORT" \
	API_KEYS="$KEYS" LOG_FORMAT=text LOG_LEVEL=info \
	"$WORK/bin/harbor-local" >"$WORK/harbor-local.log" 2>&1 &
HARBOR_PID=$!
for i in $(seq 1 240); do
	grep -q "are running" "$WORK/harbor-local.log" && break
	kill -0 "$HARBOR_PID" 2>/dev/null || { echo "harbor-local exited:" >&2; tail -20 "$WORK/harbor-local.log" >&2; exit 1; }
	[[ $i == 240 ]] && { echo "harbor-local's servers not up after 120s" >&2; tail -20 "$WORK/harbor-local.log" >&2; exit 1; }
	sleep 0.5
done
# "NATS at nats://127.0.0.1:14622 and ClickHouse at 127.0.0.1:19400 are running."
read -r NATS_URL CH_ADDR < <(sed -n 's/^NATS at \([^ ]*\) and ClickHouse at \([^ ]*\) are running.*/\1 \2/p' "$WORK/harbor-local.log" | head -1) || true
# "ClickHouse 26.7.2 (LOCAL_CLICKHOUSE=chdb) on 127.0.0.1:19400, protocol http"
read -r CH_VERSION CH_PROTOCOL < <(sed -n 's/^ClickHouse \([^ ]*\) (LOCAL_CLICKHOUSE=.*, protocol \([a-z]*\)$/\1 \2/p' "$WORK/harbor-local.log" | head -1) || true
CH_PID=$(ps --ppid "$HARBOR_PID" -o pid=,comm= | awk '$2 ~ /clickhouse|harbor-chdb/ {print $1; exit}')
[[ -n "$NATS_URL" && -n "$CH_ADDR" && -n "$CH_PROTOCOL" && -n "$CH_PID" ]] || { echo "cannot tell NATS's and ClickHouse's addresses, ClickHouse's protocol or its pid" >&2; cat "$WORK/harbor-local.log" >&2; exit 1; }
echo "harbor-local (NATS $NATS_URL): pid $HARBOR_PID; ClickHouse ($CH_ADDR): pid $CH_PID" >&2

# The services, each with the same servers and keys.
for i in "${!WRITER_PORTS[@]}"; do
	NATS_URL="$NATS_URL" CLICKHOUSE_ADDR="$CH_ADDR" CLICKHOUSE_PROTOCOL="$CH_PROTOCOL" API_KEYS="$KEYS" \
		HTTP_ADDR="127.0.0.1:${WRITER_PORTS[$i]}" LOG_FORMAT=text LOG_LEVEL=info \
		GOMEMLIMIT="$WRITER_GOMEMLIMIT" \
		"$WORK/bin/writer" >"$WORK/writer-$((i + 1)).log" 2>&1 &
	WRITER_PIDS+=($!)
done
NATS_URL="$NATS_URL" CLICKHOUSE_ADDR="$CH_ADDR" CLICKHOUSE_PROTOCOL="$CH_PROTOCOL" API_KEYS="$KEYS" \
	LISTEN_ADDR="127.0.0.1:$API_PORT" LOG_FORMAT=text LOG_LEVEL=info \
	"$WORK/bin/ingest-api" >"$WORK/ingest-api.log" 2>&1 &
API_PID=$!
if want 5; then
	NATS_URL="$NATS_URL" CLICKHOUSE_ADDR="$CH_ADDR" CLICKHOUSE_PROTOCOL="$CH_PROTOCOL" API_KEYS="$KEYS" PUBLISH_COALESCE=false \
		LISTEN_ADDR="127.0.0.1:$API_NC_PORT" LOG_FORMAT=text LOG_LEVEL=info \
		"$WORK/bin/ingest-api" >"$WORK/ingest-api-nc.log" 2>&1 &
	API_NC_PID=$!
fi

# wait_ready NAME URL PID LOG: until URL answers 200 (120 s at most).
wait_ready() {
	local name=$1 url=$2 pid=$3 log=$4
	for i in $(seq 1 240); do
		curl -sf "$url" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || { echo "$name exited:" >&2; tail -20 "$log" >&2; exit 1; }
		[[ $i == 240 ]] && { echo "$name not ready after 120s ($url)" >&2; tail -20 "$log" >&2; exit 1; }
		sleep 0.5
	done
}
URL="http://127.0.0.1:$API_PORT"
wait_ready ingest-api "$URL/readyz" "$API_PID" "$WORK/ingest-api.log"
URL_NC="http://127.0.0.1:$API_NC_PORT"
[[ -z "$API_NC_PID" ]] || wait_ready "ingest-api without group commit" "$URL_NC/readyz" "$API_NC_PID" "$WORK/ingest-api-nc.log"
# A writer is ready once it has made the table and reached NATS and
# ClickHouse, so scenario 1 does not time the writers' start.
for i in "${!WRITER_PIDS[@]}"; do
	wait_ready "writer $((i + 1))" "http://127.0.0.1:${WRITER_PORTS[$i]}/readyz" "${WRITER_PIDS[$i]}" "$WORK/writer-$((i + 1)).log"
done
echo "ready: ingest-api pid $API_PID ($URL), writer pids ${WRITER_PIDS[*]} (ports ${WRITER_PORTS[*]})" >&2

# Peak resident memory (VmHWM) in KiB; reset_peak starts a new peak (Linux
# 4.0 and later, for a process we may write to), so each scenario has its own.
hwm_kib() {
	local k v _
	{ while read -r k v _; do [[ $k == VmHWM: ]] && { echo "$v"; return; }; done <"/proc/$1/status"; } 2>/dev/null
	echo 0
}
mib() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }
reset_peak() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
# CPU time in clock ticks: of a process (user + system), and of the whole
# machine (every state but idle and iowait), to tell each process's share
# and any load from outside the benchmark.
TICK=$(getconf CLK_TCK)
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
writers_ticks() {
	local sum=0 pid
	for pid in "${WRITER_PIDS[@]}"; do sum=$((sum + $(proc_ticks "$pid"))); done
	echo "$sum"
}
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

LOADGEN=("$WORK/bin/loadgen" -clickhouse "$CH_ADDR" -clickhouse-protocol "$CH_PROTOCOL" -json -progress 10s
	-max-duration "$MAX_DURATION" -verify-timeout "$MAX_DURATION")
# The API a scenario measures (its URL, and its pid for the CPU and memory
# columns): the one with group commit but for scenario 5.
CUR_URL=$URL CUR_API_PID=$API_PID
ROWS=() IDS=()

# measure ID NAME ARGS...: runs loadgen once, keeps its JSON report in
# ID.json, and sets ROW (the table row) and DISTURBED (why others' work may
# have skewed it: their processes seen, or "other" CPU above a tenth of the
# machine; empty if neither).
measure() {
	local id=$1 name=$2
	shift 2
	local load_before pid t0 t1
	load_before=$(load1)
	foreign_procs >"$WORK/$id.foreign"
	for pid in "$CUR_API_PID" "${WRITER_PIDS[@]}" "$HARBOR_PID" "$CH_PID"; do reset_peak "$pid"; done
	echo "== $name: loadgen $*" >&2
	local a0 w0 h0 c0 b0 rc=0
	t0=$EPOCHREALTIME
	a0=$(proc_ticks "$CUR_API_PID") w0=$(writers_ticks) h0=$(proc_ticks "$HARBOR_PID") c0=$(proc_ticks "$CH_PID") b0=$(busy_ticks)
	"${LOADGEN[@]}" -url "$CUR_URL" "$@" >"$WORK/$id.json" &
	LG_PID=$!
	# loadgen's peak RSS, sampled while it runs (it is gone with the process),
	# and others' heavy processes, every 5 s.
	local lg_kib=0 k n=0
	while kill -0 "$LG_PID" 2>/dev/null; do
		k=$(hwm_kib "$LG_PID")
		((k > lg_kib)) && lg_kib=$k
		((n++ % 25 == 0)) && foreign_procs >>"$WORK/$id.foreign"
		sleep 0.2
	done
	wait "$LG_PID" || rc=$?
	LG_PID=""
	local cpu_a cpu_w cpu_h cpu_c cpu_all cpu_cm
	cpu_a=$((($(proc_ticks "$CUR_API_PID") - a0) * 100 / TICK))
	cpu_w=$((($(writers_ticks) - w0) * 100 / TICK))
	cpu_h=$((($(proc_ticks "$HARBOR_PID") - h0) * 100 / TICK))
	cpu_c=$((($(proc_ticks "$CH_PID") - c0) * 100 / TICK))
	cpu_all=$((($(busy_ticks) - b0) * 100 / TICK))
	t1=$EPOCHREALTIME
	cpu_cm=$((($(settled_ticks "$CH_PID") - c0) * 100 / TICK))
	local rss_a rss_w=0 rss_h rss_c rss_l
	rss_a=$(mib "$(hwm_kib "$CUR_API_PID")")
	for pid in "${WRITER_PIDS[@]}"; do
		k=$(hwm_kib "$pid")
		((k > rss_w)) && rss_w=$k
	done
	rss_w=$(mib "$rss_w")
	rss_h=$(mib "$(hwm_kib "$HARBOR_PID")")
	rss_c=$(mib "$(hwm_kib "$CH_PID")")
	rss_l=$(mib "$lg_kib")
	for pid in "$CUR_API_PID" "${WRITER_PIDS[@]}" "$HARBOR_PID" "$CH_PID"; do
		kill -0 "$pid" 2>/dev/null || { echo "process $pid of the pipeline died during $name; logs in $WORK (KEEP=1 keeps them)" >&2; exit 1; }
	done
	if [[ ! -s "$WORK/$id.json" ]]; then
		echo "$name: loadgen failed (exit $rc) without a report" >&2
		exit 1
	fi
	[[ $rc == 0 ]] || echo "$name: loadgen exit $rc (see the row)" >&2
	local other
	other=$(jq --argjson a "$cpu_a" --argjson w "$cpu_w" --argjson h "$cpu_h" --argjson c "$cpu_c" --argjson all "$cpu_all" \
		'[($all - $a - $w - $h - $c) / 100 - .cpu_seconds, 0] | max * 100 | round / 100' "$WORK/$id.json")
	DISTURBED=""
	if [[ -s "$WORK/$id.foreign" ]]; then
		DISTURBED="processes of others ran: $(awk '{print $1 " " $2}' "$WORK/$id.foreign" | sort -u -n | paste -sd, - | sed 's/,/, /g')"
	fi
	if awk -v o="$other" -v t="$t1" -v s="$t0" -v n="$(nproc)" 'BEGIN { exit !(o > 0.1 * (t - s) * n) }'; then
		DISTURBED+="${DISTURBED:+; }CPU of others ${other} s in $(awk -v t="$t1" -v s="$t0" 'BEGIN { printf "%.1f", t - s }') s"
	fi
	ROW=$(jq -r --arg name "$name" --arg load "$load_before" \
		--arg rss "$rss_a / $rss_w / $rss_h / $rss_c / $rss_l" --arg other "$other" \
		--argjson a "$cpu_a" --argjson w "$cpu_w" --argjson h "$cpu_h" --argjson c "$cpu_c" '
		def r0(x): if x == null or x == 0 then "–" else (x | round | tostring) end;
		def r2(x): if x == null then "–" else ((x * 100 | round) / 100 | tostring) end;
		"| \($name) | \(.readings) | \(.requests) | \(r2(.seconds)) | \(r0(.readings_per_sec)) | \(r0(.requests_per_sec)) | "
		+ "\(r2(.latency_ms.p50)) / \(r2(.latency_ms.p95)) / \(r2(.latency_ms.p99)) / \(r2(.latency_ms.max)) | "
		+ "\(.non_2xx) / \(.errors) | "
		+ (if .verify == null then "– | –" elif .verify.ok then "\(r0(.verify.end_to_end_per_sec)) | \(r2(.verify.catch_up_seconds))" else "FAILED: \(.verify.rows) of \(.verify.want) rows | –" end)
		+ " | \($rss) | "
		+ "\($a / 100) / \($w / 100) / \($h / 100) / \($c / 100) / \(.cpu_seconds * 100 | round / 100) / \($other) | \($load) |"' "$WORK/$id.json")
	echo "$ROW" >&2
	# For the table per million readings: CPU in hundredths of a second.
	jq -c --arg name "$name" --argjson a "$cpu_a" --argjson w "$cpu_w" --argjson h "$cpu_h" --argjson c "$cpu_c" \
		--argjson cm "$cpu_cm" '{name: $name, a: $a, w: $w, h: $h, c: $c, cm: $cm, l: (.cpu_seconds * 100), readings, e2e: .verify.end_to_end_per_sec}' \
		"$WORK/$id.json" >"$WORK/$id.cpu"
}

# settled_ticks PID: waits until process PID (ClickHouse) is idle, below a
# twentieth of a core for two seconds running, or SETTLE_MAX seconds have
# passed, and returns its CPU ticks then: a scenario's ClickHouse CPU
# "with merges" also holds the merges its inserts set off, which run after
# the rows are visible.
settled_ticks() {
	local pid=$1 prev now idle=0 waited=0
	prev=$(proc_ticks "$pid")
	while ((idle < 2 && waited < SETTLE_MAX)); do
		sleep 1
		waited=$((waited + 1))
		now=$(proc_ticks "$pid")
		if (((now - prev) * 20 < TICK)); then idle=$((idle + 1)); else idle=0; fi
		prev=$now
	done
	echo "$prev"
}

# per_million_row ID: the scenario's row of the table per million readings:
# each process's CPU seconds, Harbor's own (API + writers + NATS),
# ClickHouse's with the merges after the scenario, and, for the batch
# scenarios of READINGS readings when scenario 4 ran, end to end and
# ClickHouse's CPU with merges as ratios to the direct insert's.
per_million_row() {
	local id=$1 ratios=false direct=/dev/null
	[[ " s1 s7 s8 s9 " == *" $id "* && -f "$WORK/s4.cpu" ]] && ratios=true direct="$WORK/s4.cpu"
	jq -r --argjson ratios "$ratios" --slurpfile d "$direct" '
		def r2(x): (x * 100 | round) / 100 | tostring;
		def perm(x): r2(x / 100 / (.readings / 1000000));
		"| \(.name) | \(perm(.a)) | \(perm(.w)) | \(perm(.h)) | **\(perm(.a + .w + .h))** | \(perm(.c)) | \(perm(.cm)) | \(perm(.l)) | "
		+ (if $ratios and .e2e != null and $d[0].e2e != null then r2(.e2e / $d[0].e2e) else "–" end) + " | "
		+ (if $ratios and $d[0].cm > 0 then r2((.cm / .readings) / ($d[0].cm / $d[0].readings)) else "–" end) + " |"' "$WORK/$id.cpu"
}

# scenario ID NAME KIND ARGS...: measures after waiting for a quiet machine,
# with harbor (and key) KIND of a new attempt, and repeats a disturbed
# measurement up to RETRIES times (a note keeps what was discarded). A run
# that did not get quiet measures each scenario once, without waiting.
scenario() {
	local id=$1 name=$2 kind=$3
	shift 3
	local attempt auth
	for attempt in $(seq 1 $((RETRIES + 1))); do
		[[ $QUIET == 1 ]] && { wait_quiet 1 || { QUIET=0; NOTES+=("before scenario $name the machine did not get quiet within $QUIET_WAIT s ($QUIET_WHY): measured anyway"); }; }
		auth=(-harbor "bench-$kind-$RUN-$attempt")
		[[ $kind == direct ]] || auth+=(-key "key-$kind-$RUN-$attempt")
		[[ $kind != spread ]] || auth+=(-harbors "$HARBORS")
		measure "$id" "$name" "${auth[@]}" "$@"
		[[ -n "$DISTURBED" ]] || break
		if [[ $QUIET == 0 ]] || ((attempt > RETRIES)); then
			NOTES+=("scenario $name: $DISTURBED (measured anyway)")
			break
		fi
		NOTES+=("scenario $name: attempt $attempt discarded ($DISTURBED; it measured $(jq -r '"\(.readings_per_sec | round) readings/s" + (if .verify.end_to_end_per_sec then ", \(.verify.end_to_end_per_sec | round) end to end" else "" end) + ", p99 \(.latency_ms.p99) ms"' "$WORK/$id.json"))")
		echo "$name disturbed ($DISTURBED): measuring it again" >&2
	done
	ROWS+=("$ROW")
	IDS+=("$id")
}

if want 1; then
	scenario s1 "1 batch 5000 ×4" batch -mode batch -batch 5000 -conns 4 -readings "$READINGS" -verify
fi
if want 2; then
	MAX_RATE=$(jq '.readings_per_sec' "$WORK/s1.json")
	HALF=$(jq -n --argjson r "$MAX_RATE" '$r / 2 | floor')
	scenario s2 "2 batch 1000 ×4 at ${HALF}/s" rate -mode batch -batch 1000 -conns 4 \
		-rate "$HALF" -readings "$((HALF * RATE_SECONDS))" -verify
fi
if want 3; then
	scenario s3 "3 single ×32" single -mode single -conns 32 -readings "$SINGLE_REQUESTS" -verify
fi
if want 4; then
	scenario s4 "4 direct 100k ×1" direct -direct -direct-batch 100000 -conns 1 -readings "$READINGS" -verify
fi
if want 5; then
	CUR_URL=$URL_NC CUR_API_PID=$API_NC_PID
	scenario s5 "5 single ×32, no group commit" single-nc -mode single -conns 32 -readings "$SINGLE_REQUESTS" -verify
	CUR_URL=$URL CUR_API_PID=$API_PID
fi
if want 6; then
	scenario s6 "6 single ×32 over $HARBORS harbors" spread -mode single -conns 32 -readings "$SINGLE_REQUESTS" -verify
fi
if want 7; then
	scenario s7 "7 line protocol 5000 ×4" lp -mode line-protocol -batch 5000 -conns 4 -readings "$READINGS" -verify
fi
if want 8; then
	scenario s8 "8 ndjson 5000 ×4" ndjson -mode ndjson -batch 5000 -conns 4 -readings "$READINGS" -verify
fi
if want 9; then
	scenario s9 "9 csv 5000 ×4" csv -mode csv -batch 5000 -conns 4 -readings "$READINGS" -verify
fi

if [[ "$LOCAL_CLICKHOUSE" == chdb ]]; then
	ch_version="ClickHouse $CH_VERSION (chDB, over HTTP; a current server's table)"
else
	ch_version=$(/usr/sbin/clickhouse-server --version 2>/dev/null | head -1 || true)
	[[ -n "$ch_version" ]] || ch_version="clickhouse-server $(dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null || clickhouse-client --version 2>/dev/null || echo unknown)"
fi
CMD="READINGS=$READINGS SINGLE_REQUESTS=$SINGLE_REQUESTS RATE_SECONDS=$RATE_SECONDS WRITERS=$WRITERS"
[[ "$SCENARIOS" == "1 2 3 4 5 6 7 8 9" ]] || CMD+=" SCENARIOS=\"$SCENARIOS\""
[[ "$HARBORS" == 100 ]] || ! want 6 || CMD+=" HARBORS=$HARBORS"
[[ "$LOCAL_NATS_SYNC_ALWAYS" == true ]] || CMD+=" LOCAL_NATS_SYNC_ALWAYS=$LOCAL_NATS_SYNC_ALWAYS"
[[ "$LOCAL_CLICKHOUSE" == server ]] || CMD+=" LOCAL_CLICKHOUSE=$LOCAL_CLICKHOUSE"
for v in PUBLISH_COALESCE PUBLISH_COALESCE_LINGER PUBLISH_COALESCE_MAX_READINGS PUBLISH_COALESCE_MAX_BYTES QUIET_WAIT RETRIES; do
	[[ -z "${!v:-}" ]] || CMD+=" $v=${!v}"
done
[[ "$WRITER_GOMEMLIMIT" == 250MiB ]] || CMD+=" WRITER_GOMEMLIMIT=\"$WRITER_GOMEMLIMIT\""
SECTION=$(
	cat <<EOF

## $(date -u '+%Y-%m-%d %H:%M UTC'): READINGS=$READINGS, WRITERS=$WRITERS

- machine: $(nproc) cores ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)), $(free -h | awk '/^Mem:/ {print $2}') memory, Linux $(uname -r)
- $(go version), $ch_version
- load average before the run: $LOAD0
$(printf -- '- %s\n' "${NOTES[@]}")
- commit $(git rev-parse --short HEAD 2>/dev/null || echo "?")$(git diff --quiet HEAD -- 2>/dev/null || echo " with local changes")
- command: \`$CMD scripts/bench.sh\`
- data set: 100 ships × 10 cargos, readings one second apart per series
- NATS: $([[ "$LOCAL_NATS_SYNC_ALWAYS" == true ]] && echo "syncs each message to disk before acknowledging it (sync always)" || echo "nats-server's default sync, every 2 minutes (LOCAL_NATS_SYNC_ALWAYS=false)"); API group commit: PUBLISH_COALESCE=${PUBLISH_COALESCE:-true}, linger ${PUBLISH_COALESCE_LINGER:-500us} (scenario 5: PUBLISH_COALESCE=false)
- processes: harbor-local with LOCAL_RUN_SERVICES=false (the embedded NATS, "nats" below) and its $([[ "$LOCAL_CLICKHOUSE" == chdb ]] && echo "chDB server (cmd/harbor-chdb)" || echo clickhouse-server); one ingest-api (and for scenario 5 a second one, idle otherwise); $WRITERS writer process(es) (FLUSH_INTERVAL 1s, BATCH_ROWS 100000, GOMEMLIMIT ${WRITER_GOMEMLIMIT:-unset}); loadgen

| scenario | readings | requests | send s | readings/s | requests/s | latency ms p50 / p95 / p99 / max | non-2xx / errors | end-to-end readings/s | catch-up s | peak RSS MiB api / writer (max) / nats / clickhouse / loadgen | CPU s api / writers / nats / clickhouse / loadgen / other | load before |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")

CPU seconds per million readings, and the batch scenarios beside the direct insert (4) of this run:

| scenario | api | writers | nats | Harbor (api + writers + nats) | clickhouse | clickhouse with merges | loadgen | end to end ÷ direct | clickhouse CPU with merges ÷ direct |
|---|---|---|---|---|---|---|---|---|---|
$(for id in "${IDS[@]}"; do per_million_row "$id"; done)

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

Measured with `scripts/bench.sh` (cmd/loadgen against a fresh local pipeline
on 127.0.0.1: cmd/harbor-local with LOCAL_RUN_SERVICES=false for NATS and
ClickHouse, ingest-api and writers as processes of their own). Each run
appends a section.

- **readings/s, requests/s**: over the send phase, from the first request to the
  last answer; a 200 means JetStream stored the readings.
- **latency**: of each request, from sending it to reading its whole answer.
- **end-to-end readings/s**: readings answered 200 over the time from the first
  request to the moment ClickHouse showed the last of them (`count() ... FINAL`,
  polled every 100 ms); **catch-up** is the part of it after the last answer.
- **direct**: the same rows inserted straight into ClickHouse with the writer's
  store (columnar batches of 100,000 rows, one inserter): the sink's own limit.
  Its latency is per insert.
- **peak RSS**: VmHWM of each process, reset before each scenario: the
  ingest-api, the largest writer, harbor-local (the embedded NATS), its
  clickhouse-server, and loadgen (sampled every 0.2 s).
- **CPU s**: CPU time used during the scenario (send phase and the wait for the
  rows) by each process (the writers summed), and by everything else on the
  machine ("other"); a large "other" means the numbers were disturbed.
- **load before**: the 1-minute load average when the scenario started.
- **per million readings**: the CPU seconds above over the scenario's
  readings, with Harbor's own (API, writers and NATS together); for the batch
  scenarios of the same readings (1, 7, 8, 9) beside the direct insert (4) of
  the same run, end to end readings/s and ClickHouse's CPU per reading as
  ratios to the direct insert's. "clickhouse with merges" adds ClickHouse's
  CPU after the scenario until it is idle (at most SETTLE_MAX seconds): the
  merges of the parts the scenario inserted.
EOF
fi
printf '%s\n' "$SECTION" >>"$BENCH_OUT"
printf '%s\n' "$SECTION"
echo "appended to $BENCH_OUT" >&2
exit
}
