#!/usr/bin/env bash
# Reliability soaks of issue 17 that are too heavy for every CI run (see docs/RELIABILITY.md):
#   scripts/reliability-soak.sh [KILLS]   executor JVMs SIGKILLed mid-task under local-cluster (a 1-kill run, then
#                                         one with KILLS kills, default 5), speculative duplicates of a straggler,
#                                         plus the driver-crash, hostile-input, S3-fault and secrets tests.
# Short form (1 kill only, ~3 minutes on a shared 2-core machine): scripts/reliability-soak.sh 1
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
kills="${1:-5}"
mvn -B -pl jobs -am test -Dmtp.excluded.groups=none -Dmtp.soak.kills="$kills" \
  -Dtest='ExecutorLossTest,SpeculationTest,DriverCrashTest,HostileInputsTest,S3FaultsTest,SecretsTest' -Dsurefire.failIfNoSpecifiedTests=false
