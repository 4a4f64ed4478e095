#!/usr/bin/env bash
# spark-submit of our own Spark distribution (spark_runtime = "custom"), used by the EMR steps.
# The plain Apache distribution has no s3:// file system on the submit classpath, so an s3:// application jar is
# copied to local disk first; every other argument is passed through unchanged.
set -euo pipefail
SPARK_HOME=${SPARK_HOME:-/opt/spark}
work=$(mktemp -d)
args=()
for a in "$@"; do
  if [[ "${a}" == s3://*.jar ]]; then
    local_jar="${work}/$(basename "${a}")"
    aws s3 cp "${a}" "${local_jar}"
    args+=("${local_jar}")
  else
    args+=("${a}")
  fi
done
exec "${SPARK_HOME}/bin/spark-submit" "${args[@]}"
