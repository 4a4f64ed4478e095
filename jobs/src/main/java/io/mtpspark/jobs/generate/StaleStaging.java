package io.mtpspark.jobs.generate;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Leftovers of an invocation that died while writing (issue 17, found by killing the driver): Hadoop's classic
 * file committer stages committed tasks under {@code generations/_temporary/0/}, the same folder for every job
 * writing to that output, and a job's commit publishes everything in it. So after a driver crash the next run
 * would publish the dead run's tasks beside its own, duplicating their ids. A resumed run (the user continues the
 * crashed one, so no other job writes here) removes the leftovers first; any other run refuses to start while they
 * exist, because they might belong to a job writing right now. The magic committer used on S3 keys its staging by
 * job and does not have this problem; its folders are not touched.
 */
public final class StaleStaging {
    private static final System.Logger LOG = System.getLogger(StaleStaging.class.getName());

    private StaleStaging() {
    }

    static void clear(String generations, boolean resume, Configuration conf) {
        Path staging = new Path(generations, "_temporary");
        try {
            FileSystem fs = staging.getFileSystem(conf);
            if (!fs.exists(staging)) {
                return;
            }
            if (!resume) {
                throw new OutputInUseException(staging + " exists: an earlier invocation died while writing (or a job"
                        + " is writing to this output now); its staged tasks would be published with this run's and"
                        + " duplicate their rows. Rerun with --resume --run-id RUN to continue the crashed run (this"
                        + " removes them), or delete it if no job is writing to " + generations);
            }
            LOG.log(Level.WARNING, "removing {0}: staged output of an invocation that died while writing", staging);
            fs.delete(staging, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check " + staging, e);
        }
    }

    /** The output holds another invocation's staged, uncommitted tasks; the job refuses to start. */
    public static final class OutputInUseException extends RuntimeException {
        OutputInUseException(String message) {
            super(message);
        }
    }
}
