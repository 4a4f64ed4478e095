#!/usr/bin/env bash
# EMR bootstrap action for spark_runtime = "custom": installs our own Apache Spark distribution (4.2.x, Scala 2.13)
# next to EMR's Hadoop/YARN, because the EMR release does not carry the Spark version our jobs are built with.
#   $1  s3:// URI of the Spark tarball (e.g. spark-4.2.0-bin-hadoop3.tgz, uploaded by the operator)
#   $2  JAVA_HOME of a Java 17 runtime on the node
#   $3  s3:// URI of mtp-spark-submit.sh
set -euo pipefail
TARBALL_URI="$1"
JAVA17="$2"
WRAPPER_URI="$3"
SPARK_DIR=/opt/spark

if [ ! -x "${JAVA17}/bin/java" ]; then
  echo "JAVA_HOME ${JAVA17} has no bin/java; set var.java_home" >&2
  exit 1
fi

tmp=$(mktemp -d)
aws s3 cp "${TARBALL_URI}" "${tmp}/spark.tgz"
sudo mkdir -p "${SPARK_DIR}"
sudo tar -xzf "${tmp}/spark.tgz" -C "${SPARK_DIR}" --strip-components=1
rm -rf "${tmp}"

sudo tee "${SPARK_DIR}/conf/spark-env.sh" >/dev/null <<ENV
export JAVA_HOME=${JAVA17}
export HADOOP_CONF_DIR=/etc/hadoop/conf
export YARN_CONF_DIR=/etc/hadoop/conf
ENV
sudo tee "${SPARK_DIR}/conf/spark-defaults.conf" >/dev/null <<CONF
spark.master                        yarn
spark.executorEnv.JAVA_HOME         ${JAVA17}
spark.yarn.appMasterEnv.JAVA_HOME   ${JAVA17}
spark.hadoop.fs.s3.impl             org.apache.hadoop.fs.s3a.S3AFileSystem
CONF

sudo aws s3 cp "${WRAPPER_URI}" /usr/local/bin/mtp-spark-submit
sudo chmod 0755 /usr/local/bin/mtp-spark-submit
"${SPARK_DIR}/bin/spark-submit" --version || true
