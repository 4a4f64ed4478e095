package io.mtpspark.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.ModelBundle;
import io.mtpspark.engine.tensor.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code bench}: greedy tokens/s over a set of prompts, warm-up rounds excluded, median of repeated rounds. Like
 * llama2.c's {@code -n}, {@code --steps} counts positions (prompt included), so a prompt of p tokens generates up to
 * steps + 1 - p tokens. Prints one JSON object; {@code --history} appends it, with commit and machine, to a JSONL file.
 */
@Command(name = "bench", description = "Measure generation speed (tokens/s), median of repeated runs.")
final class BenchCommand implements Callable<Integer> {
    static final List<String> DEFAULT_PROMPTS = List.of("Once upon a time", "Lily wanted to", "The little dog",
            "One day, a boy named Tim", "There was a big tree", "Sara and Ben went to the park", "The sun was");

    @Mixin
    EngineOptions engine;

    @Option(names = "--prompts", description = "file with one prompt per line (default: built-in story openings)")
    Path prompts;

    @Option(names = "--steps", defaultValue = "256", description = "positions per prompt, prompt included")
    int steps;

    @Option(names = "--warmup", defaultValue = "2", description = "warm-up rounds (not measured)")
    int warmup;

    @Option(names = "--repeats", defaultValue = "5", description = "measured rounds")
    int repeats;

    @Option(names = "--history", description = "append the result as one JSON line to this file")
    Path history;

    @Override
    public Integer call() throws Exception {
        List<String> texts = prompts == null ? DEFAULT_PROMPTS
                : Files.readAllLines(prompts, StandardCharsets.UTF_8).stream().filter(s -> !s.isBlank()).toList();
        ModelBundle bundle = engine.load();
        List<int[]> ids = texts.stream().map(bundle.tokenizer()::encode).toList();
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode out = mapper.createObjectNode();
        try (Backend backend = engine.backendChoice().create(engine.threads)) {
            LlamaForward forward = new LlamaForward(bundle.model(), backend, 64, bundle.model().config().seqLen());
            Decoder decoder = new AutoregressiveDecoder(forward);
            out.put("model", bundle.model().source());
            out.put("backend", backend.name());
            out.put("prompts", ids.size());
            out.put("steps", steps);
            out.put("warmup", warmup);
            out.put("repeats", repeats);
            ObjectNode dec = out.putObject("decoders").putObject(decoder.name());
            double[] rounds = new double[repeats];
            long tokens = 0;
            long passes = 0;
            for (int round = -warmup; round < repeats; round++) {
                long generated = 0;
                long nanos = 0;
                passes = 0;
                for (int[] p : ids) {
                    GenerationResult r = decoder.generate(p, Math.max(1, steps + 1 - p.length),
                            SamplingOptions.GREEDY);
                    generated += r.generatedIds().length;
                    nanos += r.totalNanos();
                    passes += r.forwardPasses();
                }
                if (round >= 0) {
                    rounds[round] = generated * 1e9 / nanos;
                    tokens = generated;
                }
            }
            double[] sorted = rounds.clone();
            Arrays.sort(sorted);
            dec.put("generated_tokens_per_round", tokens);
            dec.put("forward_passes_per_round", passes);
            dec.put("tokens_per_pass", tokens / (double) passes);
            dec.put("tokens_per_second_median", sorted[sorted.length / 2]);
            ArrayNode all = dec.putArray("tokens_per_second_rounds");
            for (double r : rounds) {
                all.add(Math.round(r * 10) / 10.0);
            }
        }
        String line = mapper.writeValueAsString(out);
        System.out.println(line);
        if (history != null) {
            ObjectNode h = mapper.createObjectNode();
            h.put("time", Instant.now().toString());
            h.put("commit", gitCommit());
            h.put("machine", machine());
            h.put("command", "bench " + String.join(" ", commandLine()));
            h.set("figures", out);
            Files.writeString(history, mapper.writeValueAsString(h) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        return 0;
    }

    private List<String> commandLine() {
        List<String> args = new ArrayList<>(List.of("--model", String.valueOf(engine.model), "--backend",
                engine.backend, "--threads", String.valueOf(engine.threads), "--steps", String.valueOf(steps),
                "--warmup", String.valueOf(warmup), "--repeats", String.valueOf(repeats)));
        if (prompts != null) {
            args.addAll(List.of("--prompts", prompts.toString()));
        }
        return args;
    }

    static String gitCommit() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "--short", "HEAD").redirectErrorStream(true).start();
            String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 ? s : "unknown";
        } catch (Exception e) {
            return "unknown";
        }
    }

    static String machine() {
        String cpu = "unknown cpu";
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    cpu = l.substring(l.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (Exception ignored) {
            // not Linux: keep the generic label
        }
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores, Java "
                + System.getProperty("java.version");
    }
}
