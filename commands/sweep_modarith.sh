#!/usr/bin/env bash
# Sweep: modular arithmetic, grokking vs standard, three seeds, two training-set sizes.
# Runs one at a time (a 2-core CPU is busy enough with one); each follows to the end.
# Usage: bash commands/sweep_modarith.sh [RUNS_DIR]
set -euo pipefail
runs_dir=${1:-runs}
grok=${GROK:-grok}
command -v "$grok" >/dev/null || grok=.venv/bin/grok
for n_train in 2000 3000; do
  for condition in grokking standard; do
    for seed in 0 1 2; do
      "$grok" run --task modarith --condition "$condition" --n-train "$n_train" --seed "$seed" \
        --runs-dir "$runs_dir" --follow
    done
  done
done
"$grok" ls --runs-dir "$runs_dir"
