#!/usr/bin/env bash
# The issue-15 table ("CPU engine at the hardware limit") measured in one sitting on this machine, each row with its
# goal; every measurement is also appended to docs/perf-history.jsonl. See docs/BENCHMARKS.md, issue 15.
#   scripts/cpu-limit-bench.sh [RUN_C]
# RUN_C: a llama2.c run.c binary built outside the repository (default /tmp/runc/run), e.g.
#   gcc -Ofast -march=native run.c -lm -o /tmp/runc/run
# A binary whose name starts with "fwd" is called as `fwd MODEL STEPS` (the forward-only build of earlier sittings);
# any other as run.c: `run MODEL -t 0 -n STEPS -z TOKENIZER`. Without one, the run.c row is skipped.
# Environment: MODEL_DIR (default /tmp/cpu_bf16_2048; written on first use with `convert --random-model`),
# JAVA_OPTS (extra JVM options for every engine run, e.g. -XX:LoopUnrollLimit=1), THREADS (default 2), HISTORY (default docs/perf-history.jsonl), WARMUP (stories260K bench warm-up rounds, default
# 40: the row compares decode speed with run.c's, and at the former 10 rounds, about 5,000 tokens, the JIT is still
# compiling the kernels on this 2-core machine; the start-up row measures the JIT's cost). About 2-3 minutes on a quiet 2-core machine (plus
# about a minute the first time, to write the 1.4 GB models; F16_DIR, default /tmp/cpu_f16_2048, holds the F16 twin).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNC="${1:-/tmp/runc/run}"
MODEL_DIR="${MODEL_DIR:-/tmp/cpu_bf16_2048}"
THREADS="${THREADS:-2}"
WARMUP="${WARMUP:-40}"
HISTORY="${HISTORY:-docs/perf-history.jsonl}"
JAR=engine/target/mtp-engine.jar
STORIES=models/stories260K/stories260K.bin
TOK=models/stories260K/tok512.bin
WORK="$(mktemp -d /tmp/cpu-limit-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
JAVA=(java -XX:+IgnoreUnrecognizedVMOptions --add-modules jdk.incubator.vector -XX:Tier3DelayOn=100000 -XX:+UseTransparentHugePages ${JAVA_OPTS:-})

[[ -f "$JAR" ]] || mvn -B -q -o -pl engine package -DskipTests
if [[ ! -f "$MODEL_DIR/model.safetensors" ]]; then
  echo "writing the random BF16 benchmark model to $MODEL_DIR (dim 2048, 16 layers, 1.4 GB)…" >&2
  java -Xmx6g -jar "$JAR" convert --random-model 2048,5632,16,16,4,512 --dtype BF16 --out "$MODEL_DIR" \
    --tokenizer "$TOK" >/dev/null
fi
commit="$(git rev-parse --short HEAD)"
load() { cut -d' ' -f1 /proc/loadavg; }

# 1-3: batch-1 decode against read bandwidth, 9- and 81-row blocks, all in one process with the roofline
echo "block cost + roofline (load $(load))…" >&2
"${JAVA[@]}" -Xmx2g -jar "$JAR" bench --model "$MODEL_DIR" --block-cost --block-rows 1,9,81 --block-cache 16 \
  --threads "$THREADS" --warmup 1 --repeats 5 --roofline --json --history "$HISTORY" 2>/dev/null > "$WORK/block.json"

# 3b: the same model in F16 (a regression guard: F16 in place once ran 8x slower than BF16, unnoticed)
F16_DIR="${F16_DIR:-/tmp/cpu_f16_2048}"
if [[ ! -f "$F16_DIR/model.safetensors" ]]; then
  echo "writing the random F16 twin to $F16_DIR…" >&2
  java -Xmx6g -jar "$JAR" convert --random-model 2048,5632,16,16,4,512 --dtype F16 --out "$F16_DIR" \
    --tokenizer "$TOK" >/dev/null
fi
echo "F16 twin (load $(load))…" >&2
"${JAVA[@]}" -Xmx2g -jar "$JAR" bench --model "$F16_DIR" --block-cost --block-rows 1,9 --block-cache 16 \
  --threads "$THREADS" --warmup 1 --repeats 5 --json --history "$HISTORY" 2>/dev/null > "$WORK/f16.json"

# 4: resident memory serving the BF16 checkpoint, with the heap bounded and with a larger default-style heap
rss() { # prints max RSS in kB of one short generate with the JVM options given
  /usr/bin/time -v "${JAVA[@]}" "$@" -jar "$JAR" generate --model "$MODEL_DIR" --prompt "Once upon a time" \
    --max-tokens 4 --threads "$THREADS" --context 256 2>&1 >/dev/null | awk '/Maximum resident/ {print $6}'
}
echo "resident memory (load $(load))…" >&2
rss_small="$(rss -Xmx256m -Xmn32m)"
rss_large="$(rss -Xmx512m)"
rss_heap="$(rss -Xmx4g -Dmtp.weights.heapShare=0.5)" # the matrices read into the heap (opt-in)

# 5: stories260K, 1 thread, greedy, against run.c, interleaved rounds
echo "Once upon a time" > "$WORK/once.txt"
runc_tps() {
  if [[ "$(basename "$RUNC")" == fwd* ]]; then
    "$RUNC" "$STORIES" 256 2>&1
  else
    "$RUNC" "$STORIES" -t 0 -n 256 -z "$TOK" 2>&1 >/dev/null
  fi | awk '/achieved tok\/s/ {print $3}'
}
engine_tps=(); runc=()
echo "stories260K vs run.c (load $(load))…" >&2
for round in 1 2 3; do
  engine_tps+=("$("${JAVA[@]}" -jar "$JAR" bench --model "$STORIES" --tokenizer "$TOK" --prompts "$WORK/once.txt" \
    --threads 1 --warmup "$WARMUP" --repeats 11 --json 2>/dev/null \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["decoders"]["autoregressive"]["tokens_per_second_median"])')")
  if [[ -x "$RUNC" ]]; then runc+=("$(runc_tps)"); fi
done

# 6: start-up, one generate of 252 tokens: java -jar (re-exec), --add-modules, --add-modules + AppCDS archive
gen=(generate --model "$STORIES" --tokenizer "$TOK" --prompt Once --max-tokens 252 --threads 1 --backend cpu)
"${JAVA[@]}" -XX:ArchiveClassesAtExit="$WORK/mtp.jsa" -jar "$JAR" "${gen[@]}" >/dev/null 2>&1
wall() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
plain=(); modules=(); cds=()
echo "start-up (load $(load))…" >&2
for round in 1 2 3; do
  plain+=("$(wall java -jar "$JAR" "${gen[@]}")")
  modules+=("$(wall "${JAVA[@]}" -jar "$JAR" "${gen[@]}")")
  cds+=("$(wall "${JAVA[@]}" -XX:SharedArchiveFile="$WORK/mtp.jsa" -jar "$JAR" "${gen[@]}")")
done

python3 - "$WORK/block.json" "$WORK/f16.json" "$MODEL_DIR/model.safetensors" "$rss_small" "$rss_large" "$rss_heap" "$HISTORY" "$commit" \
  "$(load)" "${engine_tps[*]}" "${runc[*]:-}" "${plain[*]}" "${modules[*]}" "${cds[*]}" "$RUNC" "$WARMUP" <<'EOF'
import json, os, statistics, sys, datetime, platform
(block_file, f16_file, model_file, rss_small, rss_large, rss_heap, history, commit, load, engine, runc, plain, modules, cds,
 runc_path, warmup) = sys.argv[1:]
b = json.load(open(block_file))
rows = b["block_ms"]
f16 = json.load(open(f16_file))["block_ms"]
file_mb = os.path.getsize(model_file) / 1e6
nums = lambda s: [float(v) for v in s.split()]
engine, runc, plain, modules, cds = map(nums, (engine, runc, plain, modules, cds))
med = statistics.median
roof = b["roofline"]
table = [
    (f"stories260K, 1 thread, greedy ÷ run.c (median of 3 interleaved rounds; bench --warmup {warmup})",
     f"{med(engine):.0f} ÷ {med(runc):.0f} tok/s = {med(engine) / med(runc):.2f}×" if runc else "no run.c binary",
     "≥ 1.0×"),
    ("BF16 dim 2048 × 16 layers, batch 1: weight bytes/s ÷ read bandwidth (median round; fastest round; median "
     "round ÷ the bandwidth measured around it)",
     f"{rows['1']['pct_of_read_bandwidth']:.0f}%; {rows['1']['min_pct_of_read_bandwidth']:.0f}%; "
     f"{rows['1']['paired_pct_of_read_bandwidth']:.0f}% "
     f"({rows['1']['weight_gb_per_s']:.2f}; {rows['1']['min_weight_gb_per_s']:.2f} of {roof['read_gb_per_s']:.2f} GB/s)",
     "≥ 80%"),
    ("same model, 9-row block ÷ 1 row (median; fastest)",
     f"{rows['9']['relative_to_1_row']:.2f}×; {rows['9']['min_relative_to_1_row']:.2f}×", "≤ 1.3×"),
    ("same model, 81-row block ÷ FMA peak (median; fastest; median round ÷ the peak measured around it)",
     f"{rows['81']['pct_of_fma_peak']:.0f}%; {rows['81']['min_pct_of_fma_peak']:.0f}%; "
     f"{rows['81']['paired_pct_of_fma_peak']:.0f}% ({rows['81']['gflops']:.1f}; "
     f"{rows['81']['min_gflops']:.1f} of {roof['fma_peak_gflops']:.1f} GFLOP/s; around it "
     f"{rows['81']['paired_fma_peak_gflops']:.1f}; "
     f"{rows['81']['pct_of_in_cache_matmul']:.0f}% of the in-cache matmul)", "≥ 60%"),
    ("F16 twin of the model ÷ the BF16 model, median ms (1 row; 9 rows)",
     f"{f16['1']['median_ms'] / rows['1']['median_ms']:.2f}×; {f16['9']['median_ms'] / rows['9']['median_ms']:.2f}× "
     f"({f16['1']['median_ms']:.1f}; {f16['9']['median_ms']:.1f} ms)", "report (F16 widens in ~10 ops, BF16 in 1-2)"),
    ("resident memory ÷ BF16 file (mapped: -Xmx256m -Xmn32m; -Xmx512m; on the heap: -Xmx4g heapShare 0.5)",
     f"{int(rss_small) / 1e3 / file_mb:.2f}×; {int(rss_large) / 1e3 / file_mb:.2f}×; "
     f"{int(rss_heap) / 1e3 / file_mb:.2f}× of {file_mb:.0f} MB", "≤ 1.15×"),
    ("single generate of 252 tokens, wall ms (java -jar / --add-modules / + AppCDS)",
     f"{med(plain):.0f} / {med(modules):.0f} / {med(cds):.0f}", "report"),
]
print(f"issue 15 table, commit {commit}, {b['backend']}, JVM options {os.environ.get('JAVA_OPTS') or '(none)'}, load average at the end {load}")
print("| measurement | measured | goal |\n|---|---|---|")
for name, got, goal in table:
    print(f"| {name} | {got} | {goal} |")
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
machine = f"{cpu}, {os.cpu_count()} cores, load average {load}"
with open(history, "a") as h:
    for command, figures in [
        (f"scripts/cpu-limit-bench.sh: stories260K bench --threads 1 --warmup {warmup} vs " + runc_path,
         {"engine_tokens_per_s": engine, "runc_tokens_per_s": runc,
          "ratio_median": med(engine) / med(runc) if runc else None}),
        ("scripts/cpu-limit-bench.sh: generate --max-tokens 4 max RSS",
         {"file_mb": file_mb, "rss_mb_xmx256m_xmn32m": int(rss_small) / 1e3, "rss_mb_xmx512m": int(rss_large) / 1e3,
          "rss_mb_xmx4g_heap": int(rss_heap) / 1e3}),
        ("scripts/cpu-limit-bench.sh: generate 252 tokens wall ms",
         {"java_jar": plain, "add_modules": modules, "add_modules_appcds": cds}),
    ]:
        h.write(json.dumps({"time": now, "commit": commit, "machine": machine, "command": command,
                            "jvm_options": os.environ.get("JAVA_OPTS", ""), "figures": figures}) + "\n")
EOF
