package io.mtpspark.jobs.inject;

import com.google.inject.AbstractModule;
import com.google.inject.TypeLiteral;
import com.google.inject.name.Names;
import io.mtpspark.infra.config.ConfigValues;
import io.mtpspark.infra.inject.InfraModule;
import io.mtpspark.jobs.cli.GenerateOptions;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * Guice wiring of a job on the driver: the infra services ({@link InfraModule}) from the same configuration, the
 * job's options, the Spark session, and the infra configuration keys as a plain map ({@code infra-config}) that
 * tasks carry to executors to build their own model store there.
 */
public final class JobsModule extends AbstractModule {
    private final ConfigValues config;
    private final GenerateOptions options;
    private final SparkSession spark;

    public JobsModule(ConfigValues config, GenerateOptions options, SparkSession spark) {
        this.config = config;
        this.options = options;
        this.spark = spark;
    }

    @Override
    protected void configure() {
        install(new InfraModule(config));
        bind(GenerateOptions.class).toInstance(options);
        bind(SparkSession.class).toInstance(spark);
        bind(new TypeLiteral<Map<String, String>>() { }).annotatedWith(Names.named("infra-config"))
                .toInstance(InfraKeys.select(config));
    }
}
