package io.mtpspark.jobs.testing;

import io.mtpspark.infra.config.ConfigBinder;
import io.mtpspark.infra.config.ConfigValues;
import io.mtpspark.jobs.cli.GenerateOptions;
import io.mtpspark.jobs.GenerateJob;
import io.mtpspark.jobs.generate.RunResult;
import java.util.ArrayList;
import java.util.List;

/** Runs GenerateJob in the shared session with command-line style arguments, as {@code ./mtp generate-job} would. */
public final class JobRunner {
    private JobRunner() {
    }

    public static RunResult run(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        ConfigValues config = GenerateJob.parse(all.toArray(String[]::new));
        GenerateOptions options = ConfigBinder.bind(GenerateOptions.class, config);
        return GenerateJob.run(SharedSpark.session(), config, options);
    }
}
