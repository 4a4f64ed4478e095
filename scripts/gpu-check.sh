#!/usr/bin/env bash
# Runs on the GPU machine (H100/H200) from the bundle made by scripts/gpu-prepare.sh: the CUDA tests, then the
# benchmarks, with every result under $OUT (at most 8 files come back: env.txt, log.txt, junit/…, bench.jsonl).
# Each step has its own time limit and a failed step does not stop the next; the exit status says whether all passed.
# Sized for about 8 minutes of a 15-minute device budget. STEPS picks the steps: "tests stories 8b" (default) in one call, "8b16 batch hf" in a second.
# See docs/GPU.md.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/out/gpu}
mkdir -p "$OUT"
B=.gpu
STEPS=${STEPS:-tests stories 8b}
want() { [[ " $STEPS " == *" $1 "* ]]; }
exec > >(tee -a "$OUT/log.txt") 2>&1
failed=0
step() { echo; echo "== $(date -u +%H:%M:%S) $*"; }
run() { # run LIMIT_SECONDS NAME COMMAND...: records failure, carries on
    local limit=$1 name=$2
    shift 2
    step "$name"
    timeout "$limit" "$@"
    local rc=$?
    if [ $rc -ne 0 ]; then
        echo "!! $name failed (exit $rc$([ $rc -eq 124 ] && echo ', timed out after '"$limit"'s'))"
        failed=1
    fi
    return $rc
}

step environment
{ nvidia-smi; nvcc --version; uname -a; free -g; nproc; } > "$OUT/env.txt" 2>&1
head -20 "$OUT/env.txt"

# Java: the machine's own if it is 17 or newer, else the bundled runtime
if command -v java >/dev/null && java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; then
    JAVA=java
else
    tar -xJf "$B/jre.tar.xz" -C /tmp && JAVA=/tmp/jre/bin/java
fi
"$JAVA" -version

# CUDA libraries the JNI bindings link against: the driver is on the default path; cudart, cuBLAS(Lt) and NVRTC come
# from the CUDA install or, failing that, from the Python wheels (nvidia-cublas, nvidia-cuda-nvrtc).
libdirs=""
for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libnvrtc.so.13 libnvrtc-builtins.so.13.0; do
    f=$(find -H /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu \
        /usr/local/lib /opt -name "$lib" 2>/dev/null | head -1)
    echo "$lib: ${f:-NOT FOUND}"
    if [ -n "$f" ]; then
        libdirs="$libdirs:$(dirname "$f")"
    fi
done
export LD_LIBRARY_PATH="${libdirs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

FLAGS=(--add-modules=jdk.incubator.vector -XX:+IgnoreUnrecognizedVMOptions -Dmtp.repo.root="$PWD")
ENGINE=("$JAVA" "${FLAGS[@]}" -Xmx8g -jar "$B/mtp-engine.jar")
# the random 8B model is built on the host in F32 (32 GB of host arrays); on the device its matrices are F32 (32 GB)
# or BF16 (16 GB, rounded on the device by to_bf16 as they stream in)
BIG=("$JAVA" "${FLAGS[@]}" -Xmx48g -Dmtp.device.weights=f32 -jar "$B/mtp-engine.jar")
BIG16=("$JAVA" "${FLAGS[@]}" -Xmx48g -Dmtp.device.weights=bf16 -jar "$B/mtp-engine.jar")
RANDOM_8B=4096,14336,32,32,8,128256
STORIES=(--model models/stories260K/stories260K.bin)

# 1. tests: detection, kernel compile (nvcc), every per-op kernel against Java references, and the device tests the
#    emulator runs in CI, here on the GPU (-Dmtp.test.device=cuda): the device forward against the CPU oracle and
#    the goldens (F32 and BF16 weights, HF checkpoints, GQA + bias), MTP = autoregressive, batched = unbatched
if want tests; then
    run 300 "CUDA tests" "$JAVA" "${FLAGS[@]}" -Xmx8g -Dmtp.test.device=cuda -jar "$B/junit-console.jar" execute \
        -cp "$B/mtp-engine.jar:$B/test-classes" --include-engine=junit-jupiter \
        --select-class io.mtpspark.engine.cuda.GpuDetectionTest \
        --select-class io.mtpspark.engine.cuda.KernelCompileTest \
        --select-class io.mtpspark.engine.cuda.CudaKernelsTest \
        --select-class io.mtpspark.engine.device.DeviceForwardTest \
        --select-class io.mtpspark.engine.device.DevicePrecisionTest \
        --select-class io.mtpspark.engine.device.DeviceDecodingTest \
        --details=tree --disable-ansi-colors --disable-banner --reports-dir "$OUT/junit"
    # on a GPU machine a skipped CUDA test means detection failed there: that is a failure, not a pass
    if nvidia-smi -L >/dev/null 2>&1 && grep -q '<skipped' "$OUT/junit/TEST-junit-jupiter.xml" 2>/dev/null; then
        echo "!! a GPU is present but CUDA tests were skipped (detection said no: see the skip messages)"
        failed=1
    fi
fi

# 2. stories260K: the device-resident forward (BF16 weights) against the CPU on the same machine (small model:
#    launch overhead dominates)
cuda_ok=0
if want stories; then
    run 150 "bench stories260K cuda" "${ENGINE[@]}" bench "${STORIES[@]}" --backend cuda \
        --decoders autoregressive,quadratic --k 8 --steps 96 --warmup 1 --repeats 2 --history "$OUT/bench.jsonl"
    cuda_ok=$?
    run 150 "bench stories260K cpu" "${ENGINE[@]}" bench "${STORIES[@]}" --backend cpu --threads 16 \
        --decoders autoregressive,quadratic --k 8 --steps 96 --warmup 1 --repeats 2 --history "$OUT/bench.jsonl"
fi

# 3. 8B-shaped random model on CUDA: block cost (how much a k=8 quadratic block of 81 rows costs against one row)
#    and generation, F32 weights on the device. Building the random model takes about a minute of host time per run, so
#    these are skipped when the device engine did not even run stories260K (no GPU, missing library): that would only
#    burn device time.
if want 8b && want stories && [ $cuda_ok -ne 0 ]; then
    step "8B benchmarks skipped: the CUDA backend failed on stories260K (see above)"
elif want 8b; then
    run 240 "bench 8B block cost cuda" "${BIG[@]}" bench --block-cost --block-rows 1,9,17,81 --block-cache 128 \
        --backend cuda --random-model "$RANDOM_8B" --k 8 --warmup 1 --repeats 3 --history "$OUT/bench.jsonl"
    run 300 "bench 8B generation cuda" "${BIG[@]}" bench --backend cuda --random-model "$RANDOM_8B" \
        --decoders autoregressive,quadratic --k 8 --steps 48 --warmup 1 --repeats 1 --history "$OUT/bench.jsonl"
fi

# 4. the same 8B shape with BF16 weights on the device (half the bytes to stream per token)
if want 8b16; then
    run 240 "bench 8B block cost cuda bf16" "${BIG16[@]}" bench --block-cost --block-rows 1,9,17,81 \
        --block-cache 128 --backend cuda --random-model "$RANDOM_8B" --k 8 --warmup 1 --repeats 3 \
        --history "$OUT/bench.jsonl"
fi

# 5. throughput against batch size (continuous batching) on the 8B shape: a short context keeps 64 host KV caches
#    small; a round decodes 2 × batch sequences of 16 tokens each
if want batch; then
    run 420 "bench 8B batch sizes cuda bf16" "${BIG16[@]}" bench --backend cuda --random-model "$RANDOM_8B" \
        --decoders autoregressive,quadratic --k 8 --steps 16 --context 64 --batch-size 1,8,32,64 --warmup 0 \
        --repeats 1 --history "$OUT/bench.jsonl"
fi

# 6. the peer: Hugging Face transformers generate() on the same 8B shape (random BF16 weights on the GPU), batch 1
#    and 32, plus the measured copy bandwidth and the batch-1 limit it implies; skipped when torch/transformers are
#    missing (the script says which)
if want hf; then
    run 300 "transformers peer 8B" python3 scripts/hf_peer_bench.py --batch-sizes 1,32 --new-tokens 48 \
        --out "$OUT/bench.jsonl"
fi

step "done: $([ $failed -eq 0 ] && echo 'all steps passed' || echo 'SOME STEPS FAILED')"
exit $failed
