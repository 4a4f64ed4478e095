#!/usr/bin/env bash
# Prepares .gpu/, the bundle that scripts/gpu-check.sh runs from on a GPU machine. That machine has CUDA (driver,
# nvcc, cuBLAS, NVRTC) but no JDK, no Maven and no network, and at most 64 MiB of files travel to it (the checkout
# plus carried paths), so the bundle holds: a jlinked Java 17 runtime (xz-compressed), the shaded engine jar without
# the tokenizer natives of other platforms, the compiled test classes and the JUnit console launcher.
# Run it here (with network once, for the launcher), then call the device tool with carry [".gpu"] and the command
# `bash scripts/gpu-check.sh` (see docs/GPU.md).
set -euo pipefail
cd "$(dirname "$0")/.."
B=.gpu
JUNIT_CONSOLE=org.junit.platform:junit-platform-console-standalone:1.11.4

rm -rf "$B"
mkdir -p "$B"
mvn -B -q -pl engine -am package -DskipTests          # shaded jar + test classes (compiled, not run)
cp engine/target/mtp-engine.jar "$B/mtp-engine.jar"
# only linux-x86_64 runs there; the other platforms' tokenizer libraries are ~15 MB compressed
zip -q -d "$B/mtp-engine.jar" 'native/lib/linux-aarch64/*' 'native/lib/osx-*' 'native/lib/win-*' || true
cp -r engine/target/test-classes "$B/test-classes"
mvn -B -q -N dependency:copy -Dartifact="$JUNIT_CONSOLE" -DoutputDirectory="$B"
mv "$B"/junit-platform-console-standalone-*.jar "$B/junit-console.jar"

# modules: jdeps of the engine jar and the launcher, minus java.desktop (jackson uses java.beans only optionally)
jlink --add-modules java.base,java.logging,java.management,java.sql,java.naming,jdk.unsupported,jdk.incubator.vector \
    --strip-debug --no-header-files --no-man-pages --compress=2 --output "$B/jre" 2>/dev/null
tar -cJf "$B/jre.tar.xz" -C "$B" jre
rm -rf "$B/jre"

du -sh "$B" "$B"/*
total=$(du -sm --exclude=.git --exclude=target --exclude=node_modules . | cut -f1)
echo "checkout + bundle: ${total} MiB (the device tool takes at most 64 MiB)"
if [ "$total" -ge 64 ]; then
    echo "too large for the device tool" >&2
    exit 1
fi
