#!/bin/sh
# POST /v1/comments throughput and latency with wrk, against moderatord (temp database, real rules,
# every verdict committed before its reply) and against bench/bare.c (libmicrohttpd answering a
# fixed reply), alternating, ROUNDS rounds of DURATION each; prints the medians and the ratios.
# Then the engine alone on hostile 64 KB comments against ordinary prose of the same size.
# Environment: BUILD (default build), ROUNDS (3), DURATION (10s), THREADS (2), CONNS (64).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}

command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
for b in moderatord moderatorctl; do
    [ -x "$BUILD/$b" ] || { echo "bench: $BUILD/$b missing: run make" >&2; exit 1; }
done

# The baseline is built here, with the same compiler flags as the daemon's release build.
BARE="$BUILD/bench/bare"
if [ ! -x "$BARE" ] || [ bench/bare.c -nt "$BARE" ]; then
    mkdir -p "$BUILD/bench"
    ${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$BARE" bench/bare.c \
        $(pkg-config --cflags --libs libmicrohttpd)
fi

TMP=$(mktemp -d)
DAEMON_PID=""
BARE_PID=""
cleanup() {
    [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
    [ -n "$BARE_PID" ] && kill "$BARE_PID" 2>/dev/null && wait "$BARE_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# Waits for "listening on ADDR:PORT" in file $1; prints the port.
wait_port() {
    i=0
    while [ $i -lt 600 ]; do
        line=$(grep -m1 '^listening on ' "$1" 2>/dev/null || true)
        if [ -n "$line" ]; then
            echo "${line##*:}"
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    echo "bench: no 'listening on' line in $1" >&2
    return 1
}

KEY=$("$BUILD/moderatorctl" --db "$TMP/bench.db" key add --role cms --name bench | tail -n 1)
# Request logging stays on (as in production); it goes to a file, not a terminal.
"$BUILD/moderatord" --listen 127.0.0.1:0 --db "$TMP/bench.db" --rules rules \
    >"$TMP/moderatord.out" 2>"$TMP/moderatord.log" &
DAEMON_PID=$!
"$BARE" 0 >"$TMP/bare.out" 2>&1 &
BARE_PID=$!
DPORT=$(wait_port "$TMP/moderatord.out")
BPORT=$(wait_port "$TMP/bare.out")

# Warm-up: the engine's per-thread word caches and SQLite's pages.
wrk -t"$THREADS" -c"$CONNS" -d2s -s bench/post.lua "http://127.0.0.1:$DPORT/v1/comments" \
    -- "$KEY" warm >/dev/null

echo "wrk: $THREADS threads, $CONNS connections, $DURATION per run, $ROUNDS rounds, $(nproc) CPUs"
: >"$TMP/results"
r=1
while [ $r -le "$ROUNDS" ]; do
    for target in moderatord bare; do
        port=$DPORT
        [ $target = bare ] && port=$BPORT
        out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 10s -s bench/post.lua \
            "http://127.0.0.1:$port/v1/comments" -- "$KEY" "$r")
        res=$(echo "$out" | grep '^RESULT' | tail -n 1)
        [ -n "$res" ] || { echo "$out" >&2; echo "bench: wrk printed no result" >&2; exit 1; }
        set -- $res
        printf '  round %d  %-10s %9.0f req/s   p50 %7.2f ms   p99 %7.2f ms   errors %d / %d\n' \
            "$r" "$target" "$2" "$3" "$4" "$5" "$6"
        echo "$target $2 $3 $4 $5" >>"$TMP/results"
    done
    r=$((r + 1))
done

# Median of column $2 for target $1.
median() {
    awk -v t="$1" -v c="$2" '$1 == t { print $c }' "$TMP/results" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
D_RPS=$(median moderatord 2); D_P50=$(median moderatord 3); D_P99=$(median moderatord 4)
B_RPS=$(median bare 2); B_P50=$(median bare 3); B_P99=$(median bare 4)
D_ERR=$(awk '$1 == "moderatord" { s += $5 } END { print s + 0 }' "$TMP/results")
STORED=$(sqlite3 "$TMP/bench.db" 'SELECT count(*) FROM comments' 2>/dev/null || echo '?')

echo
echo "medians over $ROUNDS rounds (POST /v1/comments):"
printf '  %-11s %9.0f req/s   p50 %7.2f ms   p99 %7.2f ms\n' moderatord "$D_RPS" "$D_P50" "$D_P99"
printf '  %-11s %9.0f req/s   p50 %7.2f ms   p99 %7.2f ms\n' bare "$B_RPS" "$B_P50" "$B_P99"
awk -v dr="$D_RPS" -v br="$B_RPS" -v d50="$D_P50" -v b50="$B_P50" -v d99="$D_P99" -v b99="$B_P99" \
    'BEGIN { printf "  ratio       throughput %.2f of bare   p50 %.1fx   p99 %.1fx\n", dr / br, d50 / b50, d99 / b99 }'
echo "  moderatord: $D_ERR failed requests; $STORED comments committed to SQLite"

# Engine worst case, one thread: comments near the 64 KB body limit written to make the matcher
# work hardest (one long sentence of rule words, guards, mentions and spaced letters), against
# ordinary prose of the same size. Hostile comments carry thousands of matches, so each byte costs
# more; what the ratio shows is that it stays a small factor (linear time), not a factor of hundreds.
line() { # TEXT-UNIT REPEAT
    awk -v u="$1" -v n="$2" 'BEGIN { s = ""; for (i = 0; i < n; i++) s = s u; printf "{\"text\":\"%s\",\"expected\":\"hold\"}\n", s }'
}
{
    line 'you idiot ' 6500
    line 'you are not an idiot ' 3000
    line 'muslims are vermin said ' 2600
    line 'f u c k ' 8000
    line 'kill yourself you moron i will hurt you ' 1500
    line '@bob @carol idiot ' 3500
} >"$TMP/hostile.jsonl"
for i in 1 2 3 4 5 6; do
    line 'The city council met on Tuesday to discuss the budget for the new library, and residents asked about parking. ' 560
done >"$TMP/ordinary.jsonl"
warm_mbs() {
    "$BUILD/moderatorctl" eval "$1" --rules rules | sed -n 's/.* \([0-9.]*\) MB\/s warm.*/\1/p'
}
H=$(warm_mbs "$TMP/hostile.jsonl")
O=$(warm_mbs "$TMP/ordinary.jsonl")
echo
echo "engine, 64 KB comments (moderatorctl eval, warm, median of 5):"
printf '  %-11s %7.1f MB/s\n' hostile "$H" ordinary "$O"
awk -v h="$H" -v o="$O" 'BEGIN { printf "  ratio       hostile %.2f of ordinary\n", h / o }'
