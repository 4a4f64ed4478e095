package io.mtpspark.jobs;

import com.google.inject.Guice;
import io.mtpspark.infra.config.ConfigBinder;
import io.mtpspark.infra.config.ConfigSource;
import io.mtpspark.infra.config.ConfigValues;
import io.mtpspark.jobs.cli.GenerateOptions;
import io.mtpspark.jobs.generate.GenerateRun;
import io.mtpspark.jobs.generate.RunResult;
import io.mtpspark.jobs.inject.InfraKeys;
import io.mtpspark.jobs.inject.JobsModule;
import io.mtpspark.jobs.spark.LocalSparkDefaults;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * The bulk-generation Spark job: {@code spark-submit --class io.mtpspark.jobs.GenerateJob
 * mtp-jobs-assembly.jar --input … --output … --model …}. It only parses options, gets the session spark-submit
 * configured (or a local one when {@code --master} is given, as {@code ./mtp} does), wires the services with Guice
 * and runs one {@link GenerateRun}; everything else lives in plain classes. Job mains live in this package, under
 * the class names the deployment (terraform/) submits.
 */
public final class GenerateJob {
    private GenerateJob() {
    }

    public static void main(String[] args) {
        ConfigValues config = parse(args);
        GenerateOptions options = ConfigBinder.bind(GenerateOptions.class, config);
        SparkSession spark = LocalSparkDefaults.builder("mtp-generate", options.master()).getOrCreate();
        try {
            RunResult result = run(spark, config, options);
            if (result.resumeNote() != null) {
                System.out.println(result.resumeNote());
            }
            System.out.print(result.summary().render());
            System.out.println("outputs: generations=" + result.manifest().outputs().get("generations")
                    + " task_stats=" + result.manifest().outputs().get("task_stats") + " manifest=" + result.manifestLocation());
        } finally {
            spark.stop();
        }
    }

    /** Runs the job in an existing session (tests and embedding). */
    public static RunResult run(SparkSession spark, ConfigValues config, GenerateOptions options) {
        return Guice.createInjector(new JobsModule(config, options, spark)).getInstance(GenerateRun.class).run();
    }

    /** Command line &gt; {@code --config-file} &gt; {@code MTP_*} environment; unknown options are rejected. */
    public static ConfigValues parse(String... args) {
        ConfigValues config = ConfigSource.builder().commandLine(args).environment(System.getenv(), "MTP_").build();
        List<String> known = new ArrayList<>(ConfigBinder.keysOf(GenerateOptions.class));
        known.addAll(InfraKeys.KEYS);
        config.rejectUnknown(known);
        return config;
    }
}
