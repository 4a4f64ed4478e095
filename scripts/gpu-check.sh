#!/usr/bin/env bash
# Runs on the GPU machine (H100/H200) from the bundle made by scripts/gpu-prepare.sh, in ONE device call of at most
# 8 minutes (the device budget is 15 minutes in all, start-up included, so a rerun still fits). Steps run in the
# priority order of GPU_ENGINE.md section 5, each under its own limit and all under one deadline (DEADLINE_S, default
# 460 s after the start); each writes one JSON line to $OUT/steps.jsonl as it finishes (passed, failed, timed out or
# skipped for lack of time), so a run cut off by the device tool still reports what it got. Benchmarks append to
# $OUT/bench.jsonl as `bench --history` writes them. STEPS picks a subset of: tests peak 8b stories batch hf.
# See docs/GPU.md.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/out/gpu}
mkdir -p "$OUT"
B=.gpu
STEPS=${STEPS:-tests peak 8b stories batch hf}
START=$(date +%s)
DEADLINE=$((START + ${DEADLINE_S:-460}))
want() { [[ " $STEPS " == *" $1 "* ]]; }
exec > >(tee -a "$OUT/log.txt") 2>&1
failed=0
step() { echo; echo "== $(date -u +%H:%M:%S) (+$(($(date +%s) - START)) s) $*"; }
record() { # record NAME STATUS RC SECONDS LIMIT: one JSON line per step
    printf '{"step":"%s","status":"%s","rc":%s,"seconds":%s,"limit_s":%s,"at_s":%s}\n' "$1" "$2" "$3" "$4" "$5" \
        "$(($(date +%s) - START))" >> "$OUT/steps.jsonl"
}
run() { # run LIMIT_SECONDS NAME COMMAND...: at most LIMIT and never past the deadline; records, carries on
    local limit=$1 name=$2
    shift 2
    local left=$((DEADLINE - $(date +%s)))
    if [ "$left" -lt 20 ]; then
        step "$name skipped: ${left} s left before the deadline"
        record "$name" skipped 0 0 0
        return 125
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    step "$name (limit ${limit} s)"
    local t0=$(date +%s)
    timeout "$limit" "$@"
    local rc=$? status=passed
    if [ $rc -ne 0 ]; then
        status=failed
        [ $rc -eq 124 ] && status="timed out"
        echo "!! $name $status (exit $rc)"
        failed=1
    fi
    record "$name" "$status" $rc $(($(date +%s) - t0)) "$limit"
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
record java "$("$JAVA" -version 2>&1 | head -1 | tr -d '"\\')" 0 0 0

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
# the same with verification and drafting on the host (logits and hidden states copied back): the on/off comparison
ENGINE_HOST_VERIFY=("$JAVA" "${FLAGS[@]}" -Xmx8g -Dmtp.device.verify=false -jar "$B/mtp-engine.jar")
# the same with every step queued launch by launch instead of replayed from a CUDA graph
ENGINE_NO_GRAPHS=("$JAVA" "${FLAGS[@]}" -Xmx8g -Dmtp.device.graphs=false -jar "$B/mtp-engine.jar")
# the random 8B model is built on the host in F32 (32 GB of host arrays); on the device its matrices are BF16 (16 GB,
# rounded on the device by to_bf16 as they stream in)
BIG16=("$JAVA" "${FLAGS[@]}" -Xmx48g -Dmtp.device.weights=bf16 -jar "$B/mtp-engine.jar")
RANDOM_8B=4096,14336,32,32,8,128256
STORIES=(--model models/stories260K/stories260K.bin)

# 1. tests: detection, kernel compile (nvcc), every per-op kernel against Java references, and the device tests the
#    emulator runs in CI, here on the GPU (-Dmtp.test.device=cuda): the device forward against the CPU oracle and
#    the goldens (F32 and BF16 weights, HF checkpoints, GQA + bias), MTP = autoregressive, batched = unbatched.
#    First the exactness premises on this GPU: each row of an n-row GEMM equals the 1-row GEMM bit for bit (the
#    pinned cuBLASLt algorithm; rerun with -Dmtp.cuda.gemm=default to test cuBLAS's own choice), and CUDA graph
#    replay of padded steps equals eager unpadded steps bit for bit (row independence again, through the forward)
if want tests; then
    run 150 "CUDA tests" "$JAVA" "${FLAGS[@]}" -Xmx8g -Dmtp.test.device=cuda -jar "$B/junit-console.jar" execute \
        -cp "$B/mtp-engine.jar:$B/test-classes" --include-engine=junit-jupiter \
        --select-class io.mtpspark.engine.cuda.GpuDetectionTest \
        --select-class io.mtpspark.engine.cuda.KernelCompileTest \
        --select-class io.mtpspark.engine.device.GemmRowIndependenceTest \
        --select-class io.mtpspark.engine.device.DeviceGraphTest \
        --select-class io.mtpspark.engine.cuda.CudaKernelsTest \
        --select-class io.mtpspark.engine.device.DeviceForwardTest \
        --select-class io.mtpspark.engine.device.DevicePrecisionTest \
        --select-class io.mtpspark.engine.device.DeviceDecodingTest \
        --select-class io.mtpspark.engine.device.DeviceVerifierTest \
        --select-class io.mtpspark.engine.device.DeviceSamplerHeadTest \
        --select-class io.mtpspark.engine.device.DevicePipelineTest \
        --select-class io.mtpspark.engine.device.DeviceSpeculativeSamplingTest \
        --select-class io.mtpspark.engine.device.DeviceSamplingDecodeTest \
        --details=tree --disable-ansi-colors --disable-banner --reports-dir "$OUT/junit"
    # on a GPU machine a skipped CUDA test means detection failed there: that is a failure, not a pass
    if nvidia-smi -L >/dev/null 2>&1 && grep -q '<skipped' "$OUT/junit/TEST-junit-jupiter.xml" 2>/dev/null; then
        echo "!! a GPU is present but CUDA tests were skipped (detection said no: see the skip messages)"
        failed=1
    fi
fi

# 2. peak figures: device copy bandwidth and a BF16 GEMM (torch, when installed; the 8B steps' limits come from them)
if want peak; then
    run 40 "peak bandwidth and BF16 GEMM" python3 - "$OUT/bench.jsonl" <<'PY'
import json, sys, time
try:
    import torch
except ImportError:
    print("torch not installed: no peak figures"); sys.exit(3)
d = torch.device("cuda")
x = torch.empty(2 << 30, dtype=torch.uint8, device=d); y = torch.empty_like(x)
y.copy_(x); torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(10): y.copy_(x)
torch.cuda.synchronize(); bw = 2 * 10 * x.numel() / (time.perf_counter() - t) / 1e12
a = torch.randn(8192, 8192, dtype=torch.bfloat16, device=d); b = torch.randn_like(a)
a @ b; torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(20): a @ b
torch.cuda.synchronize(); tf = 20 * 2 * 8192 ** 3 / (time.perf_counter() - t) / 1e12
r = {"bench": "peak", "device": torch.cuda.get_device_name(0), "copy_tb_per_s": round(bw, 3),
     "bf16_gemm_tflops": round(tf, 1), "batch1_limit_tok_s_8b": round(bw * 1e12 / 15.0e9, 1)}
print(json.dumps(r)); open(sys.argv[1], "a").write(json.dumps(r) + "\n")
PY
fi

# 3. the 8B shape (random weights, BF16 on the device): block cost at 1/9/17/81 rows against one row (each row
#    count also with graphs off: graphs_on_vs_off in the record), then
#    autoregressive batch-1 tokens/s (against the bandwidth limit) and quadratic k = 8; MTP runs entirely on the
#    device (verification, compaction, sampler head). The random model is built on the host (~1 min per JVM).
if want 8b; then
    run 130 "8B BF16 block cost" "${BIG16[@]}" bench --block-cost --block-rows 1,9,17,81 --block-cache 128 \
        --backend cuda --random-model "$RANDOM_8B" --k 8 --warmup 1 --repeats 3 --history "$OUT/bench.jsonl"
    run 140 "8B BF16 generation batch 1" "${BIG16[@]}" bench --backend cuda --random-model "$RANDOM_8B" \
        --decoders autoregressive,quadratic --k 8 --steps 48 --warmup 1 --repeats 1 --history "$OUT/bench.jsonl"
fi

# 4. stories260K end to end with the shipped (trained) adapter: autoregressive vs quadratic k = 8 on the GPU, so
#    the MTP speedup is measured with real acceptance
if want stories; then
    run 60 "stories260K cuda AR vs quadratic k=8" "${ENGINE[@]}" bench "${STORIES[@]}" --backend cuda \
        --adapter models/stories260K/mtp-adapter.safetensors --decoders autoregressive,quadratic --k 8 --steps 96 \
        --warmup 1 --repeats 2 --history "$OUT/bench.jsonl"
    run 40 "stories260K cuda quadratic k=8, host verification" "${ENGINE_HOST_VERIFY[@]}" bench "${STORIES[@]}" \
        --backend cuda --adapter models/stories260K/mtp-adapter.safetensors --decoders quadratic --k 8 --steps 96 \
        --warmup 1 --repeats 2 --history "$OUT/bench.jsonl"
    run 40 "stories260K cuda quadratic k=8, graphs off" "${ENGINE_NO_GRAPHS[@]}" bench "${STORIES[@]}" \
        --backend cuda --adapter models/stories260K/mtp-adapter.safetensors --decoders quadratic --k 8 --steps 96 \
        --warmup 1 --repeats 2 --history "$OUT/bench.jsonl"
fi

# 5. throughput against batch size (continuous batching) on the 8B shape, short context
if want batch; then
    run 150 "8B BF16 batch 1/8/32/64" "${BIG16[@]}" bench --backend cuda --random-model "$RANDOM_8B" \
        --decoders autoregressive,quadratic --k 8 --steps 16 --context 64 --batch-size 1,8,32,64 --warmup 0 \
        --repeats 1 --history "$OUT/bench.jsonl"
fi

# 6. the peer: Hugging Face transformers generate() on the same 8B shape in BF16 (skipped when torch/transformers
#    are missing; the script says which)
if want hf; then
    run 150 "transformers peer 8B" python3 scripts/hf_peer_bench.py --batch-sizes 1,32 --new-tokens 48 \
        --out "$OUT/bench.jsonl"
fi

step "done: $([ $failed -eq 0 ] && echo 'all steps passed' || echo 'SOME STEPS FAILED')"
record done "$([ $failed -eq 0 ] && echo passed || echo failed)" $failed $(($(date +%s) - START)) "${DEADLINE_S:-460}"
exit $failed
