#!/usr/bin/env bash
# Reliability soaks of issue 17 that are too heavy for every CI run (see docs/RELIABILITY.md):
#   scripts/reliability-soak.sh [KILLS]   executor JVMs SIGKILLed mid-task under local-cluster (default 5 kills),
#                                         plus the driver-crash, hostile-input and secrets tests.
# CI's short form: scripts/reliability-soak.sh 1
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
kills="${1:-5}"
mvn -B -pl jobs -am test -Dmtp.excluded.groups=none -Dmtp.soak.kills="$kills" \
  -Dtest='ExecutorLossTest,DriverCrashTest,HostileInputsTest,SecretsTest' -Dsurefire.failIfNoSpecifiedTests=false
