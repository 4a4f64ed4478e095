package io.mtpspark.jobs.inject;

import com.google.inject.AbstractModule;
import io.mtpspark.infra.config.ConfigValues;
import io.mtpspark.infra.inject.InfraModule;
import io.mtpspark.jobs.cli.ReportOptions;
import org.apache.spark.sql.SparkSession;

/**
 * Guice wiring of the report job on the driver: the infra services (object storage for manifests, price files and
 * the dashboard, S3 settings for S3A) from the same configuration, the report options and the Spark session.
 */
public final class ReportModule extends AbstractModule {
    private final ConfigValues config;
    private final ReportOptions options;
    private final SparkSession spark;

    public ReportModule(ConfigValues config, ReportOptions options, SparkSession spark) {
        this.config = config;
        this.options = options;
        this.spark = spark;
    }

    @Override
    protected void configure() {
        install(new InfraModule(config));
        bind(ReportOptions.class).toInstance(options);
        bind(SparkSession.class).toInstance(spark);
    }
}
