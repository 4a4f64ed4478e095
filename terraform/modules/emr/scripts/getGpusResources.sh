#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript).
# Prints the GPUs of this node in the form Spark expects, e.g. {"name":"gpu","addresses":["0","1"]}.
set -euo pipefail
ADDRS=$(nvidia-smi --query-gpu=index --format=csv,noheader | awk 'NF { printf "%s\"%s\"", (n++ ? "," : ""), $1 }')
printf '{"name":"gpu","addresses":[%s]}\n' "${ADDRS}"
