#!/bin/sh
# make eval: the engine measured on every labeled file in ../shared/data (when that folder exists).
# When ../shared/peers and node are there, the six public npm filters run on the same file in the
# same run, so figures and speeds compare side by side (EVAL_PEERS=0 skips them).
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
DATA=${DATA:-../shared/data}
PEERS_SRC=${PEERS_SRC:-../shared/peers}
if [ ! -d "$DATA" ]; then
    echo "no $DATA: nothing to evaluate"
    exit 0
fi
peers=""
if [ "${EVAL_PEERS:-1}" != 0 ] && [ -f "$PEERS_SRC/run.mjs" ] && command -v node >/dev/null; then
    peers="$BUILD/peers"
    mkdir -p "$peers"
    cp "$PEERS_SRC/run.mjs" "$PEERS_SRC/package.json" "$peers/"
    if [ ! -d "$peers/node_modules" ]; then
        (cd "$peers" && npm install --no-audit --no-fund >/dev/null 2>&1) || peers=""
    fi
fi
status=0
for f in "$DATA"/*.jsonl; do
    echo "=== $(basename "$f")"
    "$BUILD/moderatorctl" eval "$f" --rules rules || status=1
    if [ -n "$peers" ]; then
        echo "public npm filters on the same file (one Node.js thread):"
        node "$peers/run.mjs" "$f" | node -e '
            let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
              for (const r of JSON.parse(s))
                console.log(`  ${r.peer.padEnd(18)} precision ${r.precision.toFixed(3)}  recall ${r.recall.toFixed(3)}  f1 ${r.f1.toFixed(3)}  fpr ${r.fpr.toFixed(4)}  ${String(r.comments_per_s).padStart(7)} comments/s  ${r.mb_per_s.toFixed(1)} MB/s`);
            });'
    fi
    echo
done
exit $status
