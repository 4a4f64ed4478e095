#!/usr/bin/env bash
# The goodput grid of issue 12: for each model/drafter and batch size, tokens/s of every fixed configuration
# (autoregressive, linear and quadratic with k in 1,2,4,8) and of `auto`, measured side by side in one bench call
# (rounds interleaved across the decoders), then the goal check: auto >= 95% of the best fixed configuration and
# >= 0.95x autoregressive in every cell.
#
#   scripts/goodput-grid.sh [OUT.jsonl]     (default: a temporary file; add the lines to docs/perf-history.jsonl)
#
# Cells whose block would exceed ROW_CAP rows in one forward (batch x rows per sequence) are not run for the
# dim-1024 model: on 2 CPU cores such a step takes tens of seconds and is compute-bound, where autoregressive wins.
# Environment: THREADS (2), STEPS (48), REPEATS (3), BATCHES ("1 4 16 64"), RANDOM_BATCHES ("1 4 16": on 2 cores
# a batch-64 round of the dim-1024 model takes minutes per configuration), MODELS ("stories oracle random").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/engine/target/mtp-engine.jar"
OUT="${1:-$(mktemp /tmp/goodput-grid.XXXXXX.jsonl)}"
THREADS="${THREADS:-2}"
STEPS="${STEPS:-48}"
REPEATS="${REPEATS:-3}"
BATCHES="${BATCHES:-1 4 16 64}"
MODELS="${MODELS:-stories oracle random}"
RANDOM_BATCHES="${RANDOM_BATCHES:-1 4 16}"
RANDOM_MODEL="1024,2816,8,16,4,32000"
[[ -f "$JAR" ]] || (cd "$ROOT" && mvn -B -q -o -pl engine -DskipTests package)

decoders_for() { # batch cap -> the configurations whose full block fits cap rows at this batch, then auto
  local batch=$1 cap=$2 list="autoregressive" k
  for k in 1 2 4 8; do
    (( batch * (2 * k + 1) <= cap )) && list+=",linear:$k"
  done
  for k in 1 2 4 8; do
    (( batch * (k + 1) * (k + 1) <= cap )) && list+=",quadratic:$k"
  done
  echo "$list,auto"
}

bench() { # STEPS_NOW positions per prompt, then bench's options
  local steps=$1
  shift
  java -XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector -jar "$JAR" bench --threads "$THREADS" \
    --steps "$steps" --warmup 1 --repeats "$REPEATS" --history "$OUT" "$@" 2>&1 \
    | grep -v -e '^WARNING: Using incubator' -e 'INFO: --backend auto' -e 'BackendChoice create' || true
}

for m in $MODELS; do
  batches="$BATCHES"
  [[ $m == stories ]] || batches="$RANDOM_BATCHES"
  for b in $batches; do
    case $m in
      stories) bench "$STEPS" --model "$ROOT/models/stories260K/stories260K.bin" \
                 --adapter "$ROOT/models/stories260K/mtp-adapter.safetensors" --batch-size "$b" \
                 --decoders "$(decoders_for "$b" 2048)" ;;
      oracle)  bench 24 --random-model "$RANDOM_MODEL" --drafter oracle --batch-size "$b" \
                 --decoders "$(decoders_for "$b" "${ROW_CAP:-640}")" ;;
      random)  bench 24 --random-model "$RANDOM_MODEL" --batch-size "$b" \
                 --decoders "$(decoders_for "$b" "${ROW_CAP:-640}")" ;;
    esac
  done
done

python3 - "$OUT" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"\n{'model':<34} {'drafter':<8} {'batch':>5} {'AR':>8} {'best fixed':>22} {'auto':>8} {'auto/best':>9} {'auto/AR':>8}  auto's steps")
ok = True
for r in rows:
    f = r["figures"]
    decs = f["decoders"]
    ar = decs["autoregressive"]["tokens_per_second_median"]
    fixed = {k: v["tokens_per_second_median"] for k, v in decs.items() if k != "auto"}
    best = max(fixed, key=fixed.get)
    auto = decs["auto"]["tokens_per_second_median"]
    steps = decs["auto"].get("steps_by_config", {})
    total = sum(steps.values()) or 1
    share = ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in sorted(steps.items(), key=lambda e: -e[1]))
    good = auto >= 0.95 * fixed[best] and auto >= 0.95 * ar
    ok &= good
    model = f["model"].split("/")[-1]
    print(f"{model:<34} {f.get('drafter', 'adapter'):<8} {f['batch_size']:>5} {ar:>8.0f} {best + ' ' + format(fixed[best], '.0f'):>22} "
          f"{auto:>8.0f} {auto / fixed[best]:>9.2f} {auto / ar:>8.2f}  {share}{'' if good else '   <- below goal'}")
print("\ngoal (auto >= 0.95 x best fixed and >= 0.95 x autoregressive in every cell):", "met" if ok else "NOT met")
print("history lines:", sys.argv[1])
EOF
