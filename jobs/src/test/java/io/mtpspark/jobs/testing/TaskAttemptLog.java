package io.mtpspark.jobs.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.scheduler.TaskInfo;

/**
 * A SparkListener for forked drivers ({@code spark.extraListeners}) that appends one line per stage and task attempt
 * to the file named by {@code spark.mtp.taskLog}, so a test can see from outside which attempts ran where, which were
 * speculative, and how each ended:
 * <pre>
 * stage STAGE PARENTS TASKS NAME
 * start STAGE PARTITION ATTEMPT SPECULATIVE EXECUTOR HOST LAUNCH_MS
 * end STAGE PARTITION ATTEMPT SPECULATIVE EXECUTOR HOST LAUNCH_MS REASON
 * </pre>
 */
public final class TaskAttemptLog extends SparkListener {
    private final Path file;

    public TaskAttemptLog(SparkConf conf) {
        this.file = Path.of(conf.get("spark.mtp.taskLog"));
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted submitted) {
        StageInfo s = submitted.stageInfo();
        append("stage " + s.stageId() + " " + s.parentIds().size() + " " + s.numTasks() + " "
                + s.name().replace(' ', '_'));
    }

    @Override
    public void onTaskStart(SparkListenerTaskStart start) {
        append("start " + start.stageId() + " " + attempt(start.taskInfo()));
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        String reason = end.reason().getClass().getSimpleName().replace("$", "");
        append("end " + end.stageId() + " " + attempt(end.taskInfo()) + " " + reason);
    }

    private static String attempt(TaskInfo t) {
        return t.partitionId() + " " + t.attemptNumber() + " " + t.speculative() + " " + t.executorId() + " " + t.host()
                + " " + t.launchTime();
    }

    private synchronized void append(String line) {
        try {
            Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The lines of a log written by this listener (empty before the first). */
    public static List<String[]> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(l -> l.split(" ")).toList();
    }

    /**
     * The stages that generate: they read the shuffle by id (a parent) and have one task per partition. Their
     * names do not tell (with adaptive execution the call site is a CompletableFuture), and every other stage of
     * these small test jobs has one or two tasks.
     */
    public static List<String> generationStages(List<String[]> log, int partitions) {
        return log.stream().filter(l -> l[0].equals("stage") && !l[2].equals("0")
                && l[3].equals(Integer.toString(partitions))).map(l -> l[1]).toList();
    }
}
