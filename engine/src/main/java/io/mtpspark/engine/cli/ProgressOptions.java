package io.mtpspark.engine.cli;

import io.mtpspark.engine.progress.ProgressMeter;
import picocli.CommandLine.Option;

/** {@code --progress-every}: the progress line of commands that can run long (generate --prompts, eval). */
final class ProgressOptions {
    @Option(names = "--progress-every", defaultValue = "10", description = "seconds between progress lines on stderr "
            + "(0 = only the last)")
    double seconds;

    ProgressMeter meter(String unit, long total) {
        if (seconds < 0) {
            throw new IllegalArgumentException("--progress-every: expected seconds >= 0, got " + seconds);
        }
        return ProgressMeter.toStderr(unit, total, seconds);
    }
}
