package io.mtpspark.jobs.generate;

import io.mtpspark.engine.session.BackendChoice;
import io.mtpspark.jobs.progress.RowProgress;
import io.mtpspark.jobs.schema.OutputSchemas;
import io.mtpspark.jobs.schema.PromptRow;
import io.mtpspark.jobs.stats.TaskIdentity;
import io.mtpspark.jobs.stats.TaskStats;
import java.util.Iterator;
import java.util.Map;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.Row;
import org.apache.spark.util.CollectionAccumulator;

/**
 * The Spark side of one generation task: reads the task's identity and the GPU Spark assigned it (if any) from
 * {@link TaskContext}, gets this executor's shared engine from {@link EngineCache}, and adapts rows to and from
 * {@link PartitionGenerator}. The task's statistics go into an accumulator, which Spark merges on the driver only
 * for the attempt that succeeded, i.e. the one whose output was committed.
 */
public final class GenerateTask implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private final GenerationSettings options;
    private final String runId;
    private final String configHash;
    private final Map<String, String> infraConfig;
    private final CollectionAccumulator<TaskStats> statsAccumulator;
    private final ModelIdentities content;
    private final RowProgress progress;

    public GenerateTask(GenerationSettings options, String runId, String configHash, Map<String, String> infraConfig,
                        CollectionAccumulator<TaskStats> statsAccumulator, ModelIdentities content,
                        RowProgress progress) {
        this.content = content;
        this.options = options;
        this.runId = runId;
        this.configHash = configHash;
        this.infraConfig = Map.copyOf(infraConfig);
        this.statsAccumulator = statsAccumulator;
        this.progress = progress;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        TaskContext tc = TaskContext.get();
        SparkEnv env = SparkEnv.get();
        TaskIdentity task = new TaskIdentity(runId, tc.stageId(), tc.partitionId(), tc.attemptNumber(),
                env.executorId(), env.blockManager().blockManagerId().host());
        LoadedEngine engine = EngineCache.engine(infraConfig, options.model(), options.tokenizerLocation(),
                options.adapterLocation(), content);
        int threads = options.threadsPerTask() > 0 ? options.threadsPerTask() : Math.max(1, tc.cpus());
        int gpu = gpuOrdinal(tc.resourcesJMap());
        PartitionGenerator generator = new PartitionGenerator(options, engine, configHash, task,
                device(tc.resourcesJMap()), threads, t -> TaskBackends.forTask(options.backend(), gpu, t,
                        n -> BackendChoice.parse(options.backend()).create(n, gpu)));
        Iterator<PromptRow> prompts = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return input.hasNext();
            }

            @Override
            public PromptRow next() {
                Row r = input.next();
                return new PromptRow(r.getString(0), r.isNullAt(1) ? null : (byte[]) r.get(1),
                        r.isNullAt(2) ? null : r.getString(2), r.isNullAt(3) ? null : r.getInt(3),
                        r.isNullAt(4) ? null : r.getDouble(4), r.isNullAt(5) ? null : r.getLong(5),
                        r.isNullAt(6) ? null : r.getString(6), r.isNullAt(7) ? null : r.getString(7),
                        r.isNullAt(8) ? null : r.getInt(8), r.isNullAt(9) ? null : r.getList(9), r.getInt(10));
            }
        };
        Iterator<io.mtpspark.jobs.schema.GenerationRecord> out = generator.generate(prompts, statsAccumulator::add);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return out.hasNext();
            }

            @Override
            public Row next() {
                io.mtpspark.jobs.schema.GenerationRecord r = out.next();
                progress.record(r);
                return OutputSchemas.toRow(r);
            }
        };
    }

    /**
     * The device Spark assigned to this task: {@code "gpu N"} with GPU scheduling (the record's {@code backend}
     * column says whether the CUDA backend ran there or {@code auto} fell back to the CPU), else {@code "cpu"}.
     */
    static String device(Map<String, ResourceInformation> resources) {
        ResourceInformation gpu = resources == null ? null : resources.get("gpu");
        if (gpu == null || gpu.addresses().length == 0) {
            return "cpu";
        }
        return "gpu " + String.join(",", gpu.addresses());
    }

    /**
     * The CUDA device ordinal to open: the first GPU address Spark assigned (discovery scripts report ordinals such
     * as {@code "0"}), or 0 when none was assigned.
     */
    static int gpuOrdinal(Map<String, ResourceInformation> resources) {
        ResourceInformation gpu = resources == null ? null : resources.get("gpu");
        if (gpu == null || gpu.addresses().length == 0) {
            return 0;
        }
        String address = gpu.addresses()[0].trim();
        try {
            return Integer.parseInt(address);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("Spark assigned GPU address \"" + address + "\", not a CUDA device ordinal;"
                    + " the GPU discovery script must report ordinals (0, 1, ...)");
        }
    }
}
