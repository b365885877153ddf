#!/usr/bin/env bash
# The GPU checks and speed tables of one call on a lent CUDA machine (issue 11), most important first, each
# part under its own time limit so that a slow one leaves the rest their time:
#   1. the step, engine, precision, scheme and trainer tests on the GPU (GANKIT_TEST_DEVICE=cuda: every recipe
#      and update scheme a few steps in bf16 and in fp16 with loss scaling, inductor's compiled critic against
#      the eager penalty, resume);
#   2. lsgan, dcgan, wgan-gp: the plain loop, gankit fp32 and bf16, eager and with CUDA graphs;
#   3. every recipe: the plain loop, gankit fp32, bf16 and fp16, eager;
#   4. many trials (issue 22, item 7): trials replayed from a hand-captured CUDA graph against eager vectorised
#      steps (tests/trials/test_graphed.py), then pacgan-2d trials/s for N = 1 … 64 one after another, vectorised
#      and graphed, with each mode's share of the fp32 peak (benchmarks/trials_speed.py); about 4 minutes.
# Run from the repository root:  OUT=folder DATA=mnist-folder bash benchmarks/gpu_checks.sh
# PARTS picks the parts by name (default "tests graphs eager trials"), e.g. PARTS=trials for item 7 alone.
# DEVICE=cpu runs the same commands on the CPU (a dry run of the script; the CUDA-only parts then report failure
# or, for the trials, skip with the reason).
set -u
OUT=${OUT:-gpu-out}
DATA=${DATA:-}
DEVICE=${DEVICE:-cuda}
PY=${PYTHON:-python3}
PARTS=${PARTS:-tests graphs eager trials}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
data=()
[ -n "$DATA" ] && data=(--data-dir "$DATA")
start=$SECONDS
stamp() { echo "== $1 ($((SECONDS - start)) s)"; }
want() { [[ " $PARTS " == *" $1 "* ]]; }

stamp machine
{
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
    $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'gpu', torch.cuda.is_available() and torch.cuda.get_device_name())"
} | tee "$OUT/machine.txt"

want tests && {
stamp "tests on $DEVICE"
workers=()
[ "${WORKERS:-8}" != 0 ] && workers=(-n "${WORKERS:-8}")  # pytest-xdist (on the GPU image)
GANKIT_TEST_DEVICE=$DEVICE timeout "${TESTS_S:-150}" $PY -m pytest -q -p no:cacheprovider "${workers[@]}" ${PYTEST_ARGS:-} \
    tests/training/test_engine.py tests/training/test_step.py tests/training/test_precision.py \
    tests/training/test_schemes.py tests/training/test_trainer.py >"$OUT/tests.txt" 2>&1
echo "exit $?"
grep -E "^(FAILED|ERROR)|passed|failed" "$OUT/tests.txt" | tail -25
}

want graphs && {
stamp "speed with CUDA graphs"
# One process per recipe and set of columns: a failed CUDA-graph capture leaves torch's graph-tree state broken
# for the rest of its process. Sets are separated by commas.
IFS=, read -r -a sets <<<"${GRAPH_SETS:-plain fp32 fp32-cudagraphs bf16-cudagraphs,plain fp32 fp32-graphs bf16-graphs}"
for recipe in ${GRAPH_RECIPES:-lsgan dcgan wgan-gp}; do
    for i in "${!sets[@]}"; do
        log="$OUT/speed-graphs-$recipe-$i.log"
        TORCH_LOGS=recompiles timeout "${GRAPHS_S:-100}" $PY benchmarks/train_step_speed.py --device "$DEVICE" \
            "${data[@]}" --recipes "$recipe" --columns ${sets[$i]} --min-time "${MIN_TIME:-0.5}" >"$log" 2>&1
        echo "$recipe / ${sets[$i]}: exit $?"
        grep -E "^\| $recipe|^# $recipe|^# GEMM" "$log" | cut -c1-400
    done
done
if [ -n "${FALLBACK_CONFIG:-}" ] && grep -q "graphs failed" "$OUT"/speed-graphs-*.log; then
    stamp "CUDA graphs again, lsgan, with $FALLBACK_CONFIG"
    TORCH_LOGS=recompiles timeout "${FALLBACK_S:-90}" $PY benchmarks/train_step_speed.py --device "$DEVICE" "${data[@]}" \
        --recipes lsgan --columns plain fp32 fp32-graphs --torch-config $FALLBACK_CONFIG \
        --min-time "${MIN_TIME:-0.5}" >"$OUT/speed-fallback.log" 2>&1
    echo "exit $?"
    grep -E "^\||^#" "$OUT/speed-fallback.log" | cut -c1-400
fi
}

want eager && {
stamp "speed of every recipe, eager"
timeout "${EAGER_S:-200}" $PY benchmarks/train_step_speed.py --device "$DEVICE" "${data[@]}" \
    ${EAGER_RECIPES:+--recipes $EAGER_RECIPES} --columns plain fp32 bf16 fp16 \
    --min-time "${MIN_TIME:-0.5}" --out "$OUT/speed-eager.md" >"$OUT/speed-eager.log" 2>&1
echo "exit $?"
grep -E "^\||^#" "$OUT/speed-eager.log" | cut -c1-400
}

want trials && {
stamp "trials replayed from a CUDA graph against eager vectorised steps, on $DEVICE"
# -s: each comparison prints the gaps it found ("graphed RECIPE: losses …, weights …")
GANKIT_TEST_DEVICE=$DEVICE timeout "${TRIALS_TESTS_S:-90}" $PY -m pytest -q -s -rs -p no:cacheprovider -o addopts= \
    ${PYTEST_ARGS:-} tests/trials/test_graphed.py >"$OUT/trials-tests.txt" 2>&1
echo "exit $?"
grep -E "^(FAILED|ERROR|SKIPPED)|passed|failed|^E |graphed [a-z0-9-]+: losses" "$OUT/trials-tests.txt" | cut -c1-400 | tail -30
stamp "trials/s one after another, vectorised and graphed, share of the fp32 peak, on $DEVICE"
# Each row is printed as it is measured (so a time-out keeps the rows before it), the table at the end.
timeout "${TRIALS_S:-150}" $PY benchmarks/trials_speed.py --device "$DEVICE" --fp32 --graphed --peak \
    ${TRIALS_CASES:+--cases $TRIALS_CASES} ${GEMM_SIZES:+--gemm-sizes $GEMM_SIZES} \
    --steps "${TRIALS_STEPS:-5}" --rounds "${TRIALS_ROUNDS:-3}" >"$OUT/trials-speed.log" 2>&1
echo "exit $?"
grep -E "^machine|GEMM peak|^[a-z0-9-]+ \| [0-9]|^- |^[A-Za-z]+Error" "$OUT/trials-speed.log" | cut -c1-400
}
stamp done
