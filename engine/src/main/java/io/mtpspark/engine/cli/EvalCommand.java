package io.mtpspark.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.BlockLayout;
import io.mtpspark.engine.goodput.AcceptanceMeasurement;
import io.mtpspark.engine.mtp.Drafter;
import io.mtpspark.engine.mtp.MaskLogitDrafter;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.SamplerHeadDrafter;
import io.mtpspark.engine.progress.ProgressMeter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.engine.session.ModelBundle;
import io.mtpspark.engine.tensor.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code eval}: acceptance of an adapter on a prompt set, like the paper's Table 1 — tokens per forward pass for each
 * k and decoder (greedy, a fixed number of new tokens), the accepted-length histogram, and a check that every MTP
 * output equals autoregressive greedy decoding.
 */
@Command(name = "eval", description = "Tokens per forward pass of an adapter, per k and decoder (paper Table 1).")
final class EvalCommand implements Callable<Integer> {
    @Mixin
    EngineOptions engine;

    @Mixin
    ProgressOptions progressOptions;

    @Option(names = "--prompts", required = true, description = "prompts, one per line") Path prompts;
    @Option(names = "--ks", defaultValue = "1,2,3,4,5,6,7,8", split = ",", description = "mask counts to evaluate")
    List<Integer> ks;
    @Option(names = "--decoders", defaultValue = "linear,quadratic", split = ",", description = "MTP decoders to "
            + "evaluate") List<String> decoders;
    @Option(names = "--max-tokens", defaultValue = "200", description = "tokens generated per prompt")
    int maxTokens;
    @Option(names = "--limit", defaultValue = "0", description = "use only the first N prompts (0 = all)") int limit;
    @Option(names = "--no-sampler", description = "draft without the sampler head (LM head on each mask)")
    boolean noSampler;
    @Option(names = "--json", description = "also print the results as one JSON object") boolean json;
    @Option(names = "--write-acceptance", description = "record the measured table (tokens and rows per pass for "
            + "each decoder and k) in the adapter file's metadata: the prior --decoder auto starts from")
    boolean writeAcceptance;

    @Override
    public Integer call() throws Exception {
        if (engine.adapter == null) {
            throw new IllegalArgumentException("--adapter is required");
        }
        if (!Files.isRegularFile(prompts)) {
            throw new EngineException(prompts, "prompts file not found");
        }
        ModelBundle bundle = engine.load();
        MtpAdapter adapter = engine.loadAdapter(bundle.model());
        List<String> texts = Files.readAllLines(prompts, StandardCharsets.UTF_8).stream().filter(s -> !s.isBlank())
                .toList();
        if (limit > 0 && texts.size() > limit) {
            texts = texts.subList(0, limit);
        }
        List<int[]> ids = texts.stream().map(bundle.tokenizer()::encode).toList();
        int maxK = ks.stream().mapToInt(Integer::intValue).max().orElse(1);
        if (maxK > adapter.k()) {
            throw new EngineException("--ks goes up to " + maxK + " but the adapter has k=" + adapter.k());
        }
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode result = mapper.createObjectNode();
        result.put("prompts", ids.size());
        result.put("max_tokens", maxTokens);
        result.put("sampler", !noSampler);
        // every (k, decoder) pair decodes every prompt, after one autoregressive reference pass
        ProgressMeter progress = progressOptions.meter("generations", (long) ids.size() * (1 + ks.size()
                * decoders.size()));
        long[] counts = new long[2];
        try (Backend backend = engine.backendChoice().create(engine.threads)) {
            int ctx = bundle.model().config().seqLen();
            AutoregressiveDecoder ar = new AutoregressiveDecoder(DecoderFactory.forward(bundle.model(), backend, 64,
                    ctx, 1, 1, 0));
            List<int[]> reference = new ArrayList<>();
            for (int[] p : ids) {
                reference.add(ar.generate(p, maxTokens, SamplingOptions.GREEDY).generatedIds());
                progress.update(++counts[0], counts[1] += reference.get(reference.size() - 1).length, 0);
            }
            Drafter drafter = noSampler ? new MaskLogitDrafter(bundle.model(), backend, adapter.k())
                    : new SamplerHeadDrafter(bundle.model(), adapter, backend);
            List<BlockLayout> layouts = new ArrayList<>();
            for (String name : decoders) {
                if (!name.equals("linear") && !name.equals("quadratic")) {
                    throw new IllegalArgumentException("--decoders: expected linear or quadratic, got \"" + name
                            + "\"");
                }
                layouts.add(BlockLayout.of(name));
            }
            List<AcceptanceMeasurement.ConfigResult> measured = AcceptanceMeasurement.measure(bundle.model(), backend,
                    adapter, drafter, ids, ks, layouts, maxTokens);
            System.out.printf("%-4s", "k");
            for (String d : decoders) {
                System.out.printf(" %12s", d);
            }
            System.out.println("   (tokens per forward pass)");
            ObjectNode table = result.putObject("tokens_per_pass");
            ObjectNode rowsTable = result.putObject("rows_per_pass");
            ObjectNode histograms = result.putObject("accept_histogram");
            int mismatches = 0;
            int at = 0;
            for (int k : ks) {
                // a row is printed whole, so progress lines on stderr never cut into it on a terminal
                StringBuilder row = new StringBuilder(String.format("%-4d", k));
                for (String name : decoders) {
                    AcceptanceMeasurement.ConfigResult r = measured.get(at++);
                    for (int i = 0; i < ids.size(); i++) {
                        if (!Arrays.equals(r.outputs().get(i), reference.get(i))) {
                            mismatches++;
                        }
                        progress.update(++counts[0], counts[1] += r.outputs().get(i).length, mismatches);
                    }
                    row.append(String.format(" %12.3f", r.tokensPerPass()));
                    table.with(name).put(String.valueOf(k), r.tokensPerPass());
                    rowsTable.with(name).put(String.valueOf(k), r.rowsPerPass());
                    histograms.with(name).putPOJO(String.valueOf(k), r.stats().acceptHistogram());
                }
                System.out.println(row);
            }
            for (String name : decoders) {
                System.out.println("accepted-length histogram, " + name + " k=" + maxK + ": "
                        + histograms.get(name).get(String.valueOf(maxK)));
            }
            progress.finish(counts[0], counts[1], mismatches);
            result.put("mismatches_vs_autoregressive", mismatches);
            System.out.println("outputs identical to autoregressive greedy: " + (mismatches == 0 ? "yes"
                    : "NO (" + mismatches + " mismatching generations)"));
            if (json) {
                System.out.println(mapper.writeValueAsString(result));
            }
            if (writeAcceptance && mismatches == 0 && !noSampler) {
                String on = prompts.getFileName() + ", " + ids.size() + " prompts, " + maxTokens + " tokens, greedy";
                adapter.withAcceptance(AcceptanceMeasurement.table(on, measured)).save(engine.adapter, bundle.model());
                System.out.println("acceptance table written into " + engine.adapter + " (--decoder auto uses it)");
            } else if (writeAcceptance) {
                System.out.println("acceptance table NOT written: " + (noSampler ? "--no-sampler measures a drafter "
                        + "the decoders do not use" : "outputs differ from autoregressive"));
            }
            return mismatches == 0 ? 0 : 1;
        }
    }
}
