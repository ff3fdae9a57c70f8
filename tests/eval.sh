#!/bin/sh
# make eval: the engine measured on every labeled file in ../shared/data (when that folder exists),
# with the public npm filters' figures beside it when ../shared/peers has its node_modules.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
DATA=${DATA:-../shared/data}
if [ ! -d "$DATA" ]; then
    echo "no $DATA: nothing to evaluate"
    exit 0
fi
status=0
for f in "$DATA"/*.jsonl; do
    "$BUILD/moderatorctl" eval "$f" --rules rules || status=1
    echo
done
exit $status
