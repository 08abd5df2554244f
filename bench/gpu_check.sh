#!/usr/bin/env bash
# GPU check of the language-model path, one script (≤ 8 minutes on one GPU): on the built-in model
# and on a ~120 M-parameter Llama folder (random bf16 weights, built here into a temp dir by
# bench/llm_memory.py's builder), it runs
#   1. a baseadd LoRA run (a few steps, an evaluation before and after, a checkpoint),
#   2. `grok eval RUN --suite accuracy --suite icl` on its last checkpoint,
#   3. one procedural expert-iteration iteration,
# all with `--device $DEVICE`, and prints the step time (baseadd, procedural), the evaluation's
# problems/s (from eval/progress.jsonl) and the peak GPU memory (each run's summary `peak_gpu_mb`).
#
#   bash bench/gpu_check.sh                     # the GPU check (exits 1 without CUDA)
#   DEVICE=cpu bash bench/gpu_check.sh          # the same steps on CPU, shortened
#   KEEP=DIR bash bench/gpu_check.sh            # keep the runs and the 120 M folder in DIR
# Run from the repository root with the project's Python first on PATH (or PYTHON=...).
set -euo pipefail

DEVICE="${DEVICE:-cuda}"
PYTHON="${PYTHON:-python}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
grok() { "$PYTHON" -m grokconsole "$@"; }

if [ "$DEVICE" = cuda ]; then
    if ! "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
        echo "gpu_check: torch sees no CUDA device (torch.cuda.is_available() is False); nothing run." >&2
        echo "gpu_check: DEVICE=cpu bash bench/gpu_check.sh runs the same steps on CPU, shortened." >&2
        exit 1
    fi
    "$PYTHON" -c 'import torch; print("gpu_check:", torch.cuda.get_device_name(0), "torch", torch.__version__)'
    STEPS=40; EVAL_PROBLEMS=250; PROC_STEPS=20; SHOTS=0,1,2,4,8
else
    echo "gpu_check: DEVICE=$DEVICE (not the GPU check: shortened, no GPU figures)"
    STEPS=3; EVAL_PROBLEMS=8; PROC_STEPS=2; SHOTS=0,2
fi

WORK="${KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/grok-gpu-check.XXXXXX")}"
mkdir -p "$WORK"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
RUNS="$WORK/runs"
BIG="$WORK/llama-120m"
START=$SECONDS

"$PYTHON" - "$BIG" <<'EOF'
import sys
from pathlib import Path
sys.path.insert(0, "bench")
from llm_memory import build_folder
info = build_folder(Path(sys.argv[1]))
print(f"gpu_check: 120 M folder {sys.argv[1]}: {info['params'] / 1e6:.1f} M parameters, "
      f"{info['weight_bytes'] / 2**20:.0f} MiB bf16")
EOF

# One model: LoRA baseadd run, its evaluation, one procedural iteration; then the figures.
check_model() {
    local label="$1" model="$2" dtype="$3"
    local sets=(--set "model_path=$model" --set "model_dtype=$dtype")
    local name="gpucheck-$label"
    grok run --task baseadd --condition standard --runs-dir "$RUNS" --name "$name-baseadd" --device "$DEVICE" \
        "${sets[@]}" --set finetune=lora --set n_train=256 --set n_val=16 --set eval_bases=8 \
        --set eval_digits=2 --set eval_size=16 --set train_eval_size=16 --set "max_steps=$STEPS" \
        --set "eval_every_steps=$STEPS" --set warmup_steps=0 --set keep_checkpoints=1 --follow >/dev/null
    local run
    run="$(ls -d "$RUNS"/*"$name-baseadd"* | head -1)"
    grok eval "$(basename "$run")" --runs-dir "$RUNS" --checkpoints last --suite accuracy --suite icl \
        --shots "$SHOTS" --problems "$EVAL_PROBLEMS" --device "$DEVICE" --follow >/dev/null
    grok run --task procedural --condition standard --runs-dir "$RUNS" --name "$name-procedural" \
        --device "$DEVICE" "${sets[@]}" --set method=expert_iteration --set n_train=32 --set n_val=16 \
        --set n_test=16 --set train_eval_size=16 --set "steps_per_iteration=$PROC_STEPS" --epochs 1 \
        --follow >/dev/null
    "$PYTHON" "$REPO/bench/_gpu_check_report.py" "$label" "$run" \
        "$(ls -d "$RUNS"/*"$name-procedural"* | head -1)"
}

check_model built-in "" auto
check_model 120M "$BIG" auto
echo "gpu_check: done in $((SECONDS - START)) s (device $DEVICE)"
