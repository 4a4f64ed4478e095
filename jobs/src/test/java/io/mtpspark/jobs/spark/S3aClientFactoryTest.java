package io.mtpspark.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.infra.s3.S3Settings;
import java.net.URI;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.s3a.S3ClientFactory.S3ClientCreationParameters;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.retries.api.RetryStrategy;

/** S3A's SDK clients get the job's retry strategy: its attempts and its retry of a response cut mid-body. */
class S3aClientFactoryTest {
    @Test
    void s3aClientsRetryWithTheJobsPolicy() throws Exception {
        Configuration conf = new Configuration(false);
        S3aSettings.apply(S3Settings.fromConfig(io.mtpspark.jobs.GenerateJob.parse("--s3-endpoint",
                "http://127.0.0.1:9", "--s3-max-attempts", "3")), conf);
        S3aClientFactory factory = new S3aClientFactory();
        factory.setConf(conf);
        RetryStrategy strategy = factory.createClientOverrideConfiguration(new S3ClientCreationParameters(), conf)
                .build().retryStrategy().orElseThrow();
        assertEquals(3, strategy.maxAttempts());
        assertTrue(io.mtpspark.infra.s3.S3ClientFactory.brokenConnection(SdkClientException.create("cut",
                new javax.xml.stream.XMLStreamException("ParseError"))), "a listing cut mid-body is retried");
        assertFalse(io.mtpspark.infra.s3.S3ClientFactory.brokenConnection(SdkClientException.create("bad")));
    }
}
