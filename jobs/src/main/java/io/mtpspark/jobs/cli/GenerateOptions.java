package io.mtpspark.jobs.cli;

import io.mtpspark.infra.config.DefaultValue;
import io.mtpspark.engine.session.BackendChoice;
import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.engine.session.GenerationChecks;
import java.io.Serializable;
import java.util.Locale;
import java.util.Optional;

/**
 * Options of the generation job, bound from the command line ({@code --input …}), a properties file or
 * {@code MTP_*} environment variables by {@link io.mtpspark.infra.config.ConfigBinder}. Per-row columns of the input
 * ({@code max_tokens}, {@code temperature}, {@code seed}) override the job-wide defaults held here. The record is
 * serialised into Spark tasks, so it holds only plain values; S3 keys are not part of it (they stay in the infra
 * configuration and are never written to the manifest).
 *
 * @param input          Parquet or JSONL input ({@code file:}, plain path, {@code s3a://})
 * @param output         output root; datasets {@code generations/} and {@code task_stats/} and {@code manifests/} go below it
 * @param inputFormat    {@code auto} (by extension: {@code .jsonl}/{@code .json} = JSON lines, else Parquet), {@code parquet}, {@code jsonl}
 * @param model          model location: a llama2.c {@code .bin}, a Hugging Face directory, or a directory holding one {@code .bin}
 * @param decoder        {@code auto} (default: the goodput policy picks the configuration per step; without an
 *                       adapter it decodes autoregressively), {@code autoregressive}, {@code linear} or
 *                       {@code quadratic}
 * @param k              masks per step of a fixed MTP decoder; for {@code auto} the largest k it may use (0 = the
 *                       adapter's)
 * @param batchSize      sequences each task decodes together (continuous batching); outputs do not depend on it,
 *                       so it is not part of the config hash
 * @param partitions     number of tasks; 0 = derived from the row count and the cluster's default parallelism
 * @param threadsPerTask CPU threads per task backend; 0 = {@code spark.task.cpus}
 * @param speedupSample  fraction of each task's rows also decoded autoregressively to measure the speedup (0 = off)
 * @param context        positions per sequence; 0 = the model's own (capped by the engine)
 * @param resume         continue the run {@code --run-id}: rows it already has for this configuration are skipped
 * @param noRetryErrors  on resume, keep the run's error rows as they are; by default they are generated again,
 *                       since a transient fault should not make a row fail for good
 * @param master         Spark master for local runs ({@code ./mtp}); absent = whatever spark-submit set
 * @param injectFailure  testing aid {@code PARTITION:ROWS}: attempt 0 of that partition throws after that many rows
 * @param instanceType   the machine type executors run on (e.g. {@code g5.xlarge}); only recorded in the manifest,
 *                       where the cost report looks up its price
 * @param progressEvery  seconds between the driver's progress lines on stderr (0 = only the last)
 * @param system         default system message of chat rows (put first when a conversation has none)
 * @param chat           render {@code prompt} rows as a user turn through the chat template
 * @param chatTemplate   Jinja chat template file used instead of the model's {@code chat_template}
 * @param promptTemplate builds each row's prompt from its columns: {@code "Summarise: {text}"}
 * @param stop           job-wide stop strings: one string, or a JSON list of strings
 * @param n              samples per prompt (a row's {@code n} column overrides it)
 * @param export         also write training data: {@code chat-jsonl} or {@code prompt-completion}
 * @param dedupe         drop exact duplicate completions of a prompt from the export
 */
public record GenerateOptions(
        String input,
        String output,
        @DefaultValue("auto") String inputFormat,
        String model,
        Optional<String> tokenizer,
        Optional<String> adapter,
        @DefaultValue("auto") String decoder,
        @DefaultValue("0") int k,
        @DefaultValue("1") int batchSize,
        @DefaultValue("auto") String backend,
        @DefaultValue("0") int threadsPerTask,
        @DefaultValue("0") int partitions,
        Optional<String> runId,
        @DefaultValue("false") boolean resume,
        @DefaultValue("false") boolean noRetryErrors,
        @DefaultValue("128") int maxTokens,
        @DefaultValue("0") double temperature,
        @DefaultValue("0") int topK,
        @DefaultValue("1") double topP,
        @DefaultValue("0") long seed,
        @DefaultValue("0") int context,
        @DefaultValue("0.05") double speedupSample,
        Optional<String> master,
        Optional<String> injectFailure,
        Optional<String> instanceType,
        Optional<String> system,
        @DefaultValue("false") boolean chat,
        Optional<String> chatTemplate,
        Optional<String> promptTemplate,
        Optional<String> stop,
        @DefaultValue("1") int n,
        Optional<String> export,
        @DefaultValue("false") boolean dedupe,
        @DefaultValue("10") double progressEvery) implements Serializable {

    /** The training-data formats {@code --export} writes. */
    public static final java.util.List<String> EXPORTS = java.util.List.of("chat-jsonl", "prompt-completion");
    public static final int MAX_N = 1000;

    public GenerateOptions {
        inputFormat = inputFormat.toLowerCase(Locale.ROOT);
        if (!inputFormat.equals("auto") && !inputFormat.equals("parquet") && !inputFormat.equals("jsonl")) {
            throw new IllegalArgumentException("--input-format: expected auto, parquet or jsonl, got \"" + inputFormat + "\"");
        }
        if (!DecoderFactory.NAMES.contains(decoder)) {
            throw new IllegalArgumentException("--decoder: expected one of " + String.join(", ", DecoderFactory.NAMES)
                    + ", got \"" + decoder + "\"");
        }
        if (decoder.equals("linear") || decoder.equals("quadratic")) {
            if (adapter.isEmpty()) {
                throw new IllegalArgumentException("--decoder " + decoder + " needs --adapter");
            }
            if (k < 1) {
                throw new IllegalArgumentException("--decoder " + decoder + " needs --k >= 1, got " + k);
            }
        }
        if (batchSize < 1 || batchSize > DecoderFactory.MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("--batch-size: expected 1.." + DecoderFactory.MAX_BATCH_SIZE + ", got "
                    + batchSize);
        }
        BackendChoice.parse(backend);
        GenerationChecks.k("--k", k);
        GenerationChecks.maxTokens("--max-tokens", maxTokens);
        GenerationChecks.temperature("--temperature", temperature);
        GenerationChecks.topK("--top-k", topK);
        GenerationChecks.topP("--top-p", topP);
        if (threadsPerTask < 0 || partitions < 0 || context < 0) {
            throw new IllegalArgumentException("--threads-per-task, --partitions and --context must be >= 0");
        }
        if (!(speedupSample >= 0 && speedupSample <= 1)) {
            throw new IllegalArgumentException("--speedup-sample must be in [0, 1], got " + speedupSample);
        }
        if (resume && runId.isEmpty()) {
            throw new IllegalArgumentException("--resume needs --run-id RUN: the id of the run to continue (printed"
                    + " by the run, and the name of its manifest under OUTPUT/manifests/)");
        }
        runId.ifPresent(id -> {
            if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
                throw new IllegalArgumentException("--run-id may use letters, digits, '.', '_' and '-' (max 128), got \"" + id + "\"");
            }
        });
        injectFailure.ifPresent(FailurePlan::parse);
        if (n < 1 || n > MAX_N) {
            throw new IllegalArgumentException("--n: expected 1.." + MAX_N + ", got " + n);
        }
        if (n > 1 && temperature == 0) {
            throw new IllegalArgumentException("--n " + n + " with greedy decoding (--temperature 0) would repeat one "
                    + "text " + n + " times; set --temperature > 0");
        }
        export.ifPresent(e -> {
            if (!EXPORTS.contains(e)) {
                throw new IllegalArgumentException("--export: expected one of " + String.join(", ", EXPORTS)
                        + ", got \"" + e + "\"");
            }
        });
        if (dedupe && export.isEmpty()) {
            throw new IllegalArgumentException("--dedupe applies to --export; give --export too");
        }
        parseStops(stop);
    }

    /** {@code --stop} as a list: a JSON list of strings, or the one string given. */
    public java.util.List<String> stopStrings() {
        return parseStops(stop);
    }

    private static java.util.List<String> parseStops(Optional<String> stop) {
        if (stop.isEmpty()) {
            return java.util.List.of();
        }
        String s = stop.get();
        if (!s.startsWith("[")) {
            return java.util.List.of(s);
        }
        try {
            java.util.List<String> list = new com.fasterxml.jackson.databind.ObjectMapper().readValue(s,
                    new com.fasterxml.jackson.core.type.TypeReference<java.util.List<String>>() { });
            if (list.stream().anyMatch(x -> x == null || x.isEmpty())) {
                throw new IllegalArgumentException("--stop: stop strings must not be empty");
            }
            return list;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("--stop: expected a string or a JSON list of strings: "
                    + e.getOriginalMessage());
        }
    }

    public io.mtpspark.jobs.chat.ChatSettings chatSettings() {
        return new io.mtpspark.jobs.chat.ChatSettings(system.orElse(null), chat, chatTemplate.orElse(null),
                stopStrings());
    }

    /** Whether a resumed run generates its error rows again (the default) rather than keeping them. */
    public boolean retryErrors() {
        return !noRetryErrors;
    }

    /** k as decoders see it: 0 for autoregressive decoding (for {@code auto}: the cap, 0 = the adapter's). */
    public int effectiveK() {
        return decoder.equals("autoregressive") ? 0 : k;
    }

    /** Whether the input is read as JSON lines. */
    public boolean jsonInput() {
        return inputFormat.equals("jsonl")
                || inputFormat.equals("auto") && (input.endsWith(".jsonl") || input.endsWith(".json"));
    }

    /**
     * The testing-aid failure plan: attempt 0 of {@code partition} throws after {@code rows} rows were produced,
     * or, with {@code stallMillis > 0}, stalls that long there instead (a straggler, for speculative execution).
     */
    public record FailurePlan(int partition, int rows, long stallMillis) implements Serializable {
        public static FailurePlan parse(String spec) {
            String[] parts = spec.split(":");
            try {
                if (parts.length == 2 || parts.length == 3) {
                    long stall = parts.length == 3 ? Long.parseLong(parts[2].trim()) : 0;
                    if (stall >= 0) {
                        return new FailurePlan(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()),
                                stall);
                    }
                }
            } catch (NumberFormatException ignored) {
                // fall through to the message below
            }
            throw new IllegalArgumentException("--inject-failure: expected PARTITION:ROWS or PARTITION:ROWS:STALL_MS,"
                    + " got \"" + spec + "\"");
        }
    }

    public Optional<FailurePlan> failurePlan() {
        return injectFailure.map(FailurePlan::parse);
    }
}
