#!/usr/bin/env bash
# EMR bootstrap action, runs on every node before the applications start.
#   $1  s3:// URI of getGpusResources.sh
#   $2  cgroup mount path configured for YARN (yarn.nodemanager.linux-container-executor.cgroups.mount-path)
# Installs the Spark GPU discovery script and lets YARN's LinuxContainerExecutor manage the GPU devices.
set -euo pipefail
DISCOVERY_URI="$1"
CGROUP_PATH="${2:-/spark-rapids-cgroup}"

sudo aws s3 cp "${DISCOVERY_URI}" /usr/local/bin/getGpusResources.sh
sudo chmod 0755 /usr/local/bin/getGpusResources.sh

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "no nvidia-smi on $(hostname): not a GPU node (primary?), skipping cgroup setup"
  exit 0
fi
nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader || true

if [ "$(stat -fc %T /sys/fs/cgroup)" = "cgroup2fs" ]; then
  # Amazon Linux 2023 (EMR 7.x and later) mounts cgroup v2; YARN's GPU isolation needs the v1 devices controller.
  sudo mkdir -p "${CGROUP_PATH}/devices"
  if ! mountpoint -q "${CGROUP_PATH}/devices"; then
    sudo mount -t cgroup -o devices cgroupv1-devices "${CGROUP_PATH}/devices"
  fi
  sudo chmod a+rwx -R "${CGROUP_PATH}"
else
  sudo chmod a+rwx -R /sys/fs/cgroup/cpu,cpuacct
  sudo chmod a+rwx -R /sys/fs/cgroup/devices
fi
