package io.mtpspark.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.decode.BlockLayout;
import io.mtpspark.engine.goodput.AcceptanceMeasurement;
import io.mtpspark.engine.model.ModelFingerprint;
import io.mtpspark.engine.mtp.LoraTarget;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.MtpAdapterConfig;
import io.mtpspark.engine.mtp.SamplerHeadDrafter;
import io.mtpspark.engine.mtp.SamplerOptions;
import io.mtpspark.engine.session.ModelBundle;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.train.CorpusReader;
import io.mtpspark.engine.train.LossOptions;
import io.mtpspark.engine.train.MtpTrainer;
import io.mtpspark.engine.train.SelfDistillation;
import io.mtpspark.engine.train.TrainingConfig;
import io.mtpspark.engine.train.TrainingSequence;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

/**
 * {@code train}: trains an MTP adapter (gated LoRA on all seven linears of every layer, sampler head, mask
 * embeddings) on a frozen base model, from a corpus or by self-distillation, with a live progress line, periodic
 * checkpoints and bit-for-bit {@code --resume}.
 */
@Command(name = "train", description = "Train an MTP adapter (gated LoRA + sampler head) on a frozen base model.")
final class TrainCommand implements Callable<Integer> {
    @Mixin
    EngineOptions engine;

    @Option(names = "--out", required = true, description = "adapter file to write (.safetensors)")
    Path out;

    @Option(names = "--data", description = "corpus: .jsonl (text, or prompt+completion) or plain text lines; "
            + "this or --self-distill is required")
    Path data;

    @Option(names = "--self-distill", description = "seed prompts, one per line: train on the model's own "
            + "text; this or --data is required")
    Path selfDistill;

    @Option(names = "--rank", defaultValue = "16", description = "LoRA rank") int rank;
    @Option(names = "--scaling", defaultValue = "1.0", description = "LoRA branch scale") float scaling;
    @Option(names = "--steps", defaultValue = "1000", description = "optimizer steps") int steps;
    @Option(names = "--batch", defaultValue = "8", description = "sequences per step") int batch;
    @Option(names = "--lr", defaultValue = "2e-4", description = "peak learning rate (AdamW)") double lr;
    @Option(names = "--warmup", defaultValue = "100", description = "linear warm-up steps before the peak "
            + "learning rate") int warmup;
    @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW weight decay")
    double weightDecay;
    @Option(names = "--grad-clip", defaultValue = "1.0", description = "clip the gradient's global L2 norm "
            + "to this") double gradClip;
    @Option(names = "--seed", defaultValue = "1", description = "seed for initialisation, data order and "
            + "sampled prefixes") long seed;
    @Option(names = "--base-ce-weight", defaultValue = "1.0", description = "weight of the cross-entropy "
            + "of mask rows through the LM head") double baseCeWeight;
    @Option(names = "--sampler-ce-weight", defaultValue = "1.0", description = "0 trains without the sampler")
    double samplerCeWeight;
    @Option(names = "--lcm-weight", defaultValue = "1.0", description = "0 disables latent consistency matching")
    double lcmWeight;
    @Option(names = "--chain-sampler", description = "feed the sampler its own previous argmax (default: teacher "
            + "forcing)") boolean chainSampler;
    @Option(names = "--no-sampler-residual", description = "sampler output h2 instead of h1 + h2")
    boolean noSamplerResidual;
    @Option(names = "--freeze-mask-embeddings", description = "keep the random mask embeddings fixed")
    boolean freezeMaskEmbeddings;
    @Option(names = "--max-new-tokens", defaultValue = "200", description = "self-distillation: tokens per sequence")
    int maxNewTokens;
    @Option(names = "--sampled-variants", defaultValue = "1", description = "self-distillation: sampled-prefix "
            + "variants per prompt") int sampledVariants;
    @Option(names = "--max-length", defaultValue = "256", description = "corpus: tokens per sequence at most")
    int maxLength;
    @Option(names = "--checkpoint", description = "checkpoint file (default: OUT.ckpt)") Path checkpoint;
    @Option(names = "--checkpoint-every", defaultValue = "100", description = "steps between checkpoints "
            + "(0 = none)") int checkpointEvery;
    @Option(names = "--resume", description = "continue from --checkpoint") boolean resume;
    @Option(names = "--log", description = "append one JSON line per logged step to this file (default: none)")
    Path log;
    @Option(names = "--log-every", defaultValue = "10", description = "steps between --log lines") int logEvery;
    @Option(names = "--acceptance-prompts", defaultValue = "20", description = "at the end, measure tokens per pass "
            + "of each decoder and k on this many training sequences' openings and record the table in the adapter "
            + "(the prior --decoder auto starts from; 0 = skip)")
    int acceptancePrompts;

    @Override
    public Integer call() throws Exception {
        if ((data == null) == (selfDistill == null)) {
            throw new IllegalArgumentException("give exactly one of --data or --self-distill");
        }
        if (engine.backendChoice() == io.mtpspark.engine.session.BackendChoice.CUDA) {
            // said, not ignored: a user asking for the GPU must not believe training ran there
            throw new IllegalArgumentException("--backend cuda: train runs on the CPU (its graph is double precision "
                    + "with a hand-written backward); use --backend auto or cpu");
        }
        int threads = engine.threads > 0 ? engine.threads : Runtime.getRuntime().availableProcessors();
        int k = engine.k > 0 ? engine.k : 8;
        ModelBundle bundle = engine.load();
        PrintStream err = System.err;
        long t0 = System.nanoTime();
        List<TrainingSequence> sequences;
        // every token of a training sequence runs through the frozen model: a sequence is at most its context long
        int ctx = bundle.model().config().seqLen();
        if (selfDistill != null) {
            if (!Files.isRegularFile(selfDistill)) {
                throw new EngineException(selfDistill, "prompts file not found");
            }
            List<String> prompts = Files.readAllLines(selfDistill, StandardCharsets.UTF_8).stream()
                    .filter(s -> !s.isBlank()).toList();
            if (maxNewTokens + 2 > ctx) {
                err.printf("data: sequences limited to the model's context of %d tokens (prompt included; "
                        + "--max-new-tokens is %d)%n", ctx, maxNewTokens);
            }
            try {
                sequences = SelfDistillation.build(bundle, prompts, new SelfDistillation.Options(maxNewTokens,
                        sampledVariants, 60, 1.0f, seed, threads, ctx));
            } catch (IllegalArgumentException e) {
                throw new EngineException(selfDistill, e.getMessage());
            }
        } else {
            if (maxLength > ctx) {
                err.printf("data: sequences limited to the model's context of %d tokens (--max-length is %d)%n", ctx,
                        maxLength);
            }
            sequences = CorpusReader.read(data, bundle.tokenizer(), Math.min(maxLength, ctx));
        }
        long tokens = sequences.stream().mapToLong(s -> s.tokens().length).sum();
        err.printf("data: %d sequences, %d tokens (%.1f s)%n", sequences.size(), tokens,
                (System.nanoTime() - t0) / 1e9);
        LossOptions loss = new LossOptions(baseCeWeight, samplerCeWeight, lcmWeight, chainSampler);
        TrainingConfig config = new TrainingConfig(k, rank, scaling, lr, warmup, steps, batch, weightDecay, 0.9, 0.999,
                1e-8, gradClip, seed, !freezeMaskEmbeddings, loss, threads);
        MtpAdapterConfig adapterConfig = new MtpAdapterConfig(k, rank, scaling, EnumSet.allOf(LoraTarget.class),
                new SamplerOptions(!noSamplerResidual), ModelFingerprint.dtypeIndependent(bundle.model()));
        MtpAdapter adapter = MtpAdapter.initialForTraining(bundle.model(), adapterConfig, seed);
        Path ckpt = checkpoint != null ? checkpoint : out.resolveSibling(out.getFileName() + ".ckpt");
        try (MtpTrainer trainer = new MtpTrainer(bundle.model(), adapter, config, sequences)) {
            if (resume) {
                trainer.restore(ckpt);
                err.printf("resumed from %s at step %d%n", ckpt, trainer.step());
            }
            err.printf("training %,d parameters: k=%d rank=%d batch=%d lr=%g warmup=%d steps=%d threads=%d%n",
                    trainer.trainableParameters(), k, rank, batch, lr, warmup, steps, threads);
            long start = System.nanoTime();
            int first = trainer.step();
            long rowsDone = 0;
            ObjectMapper json = new ObjectMapper();
            while (trainer.step() < steps) {
                MtpTrainer.StepReport r = trainer.trainStep();
                rowsDone += r.maskRows();
                double elapsed = (System.nanoTime() - start) / 1e9;
                double perStep = elapsed / (r.step() - first);
                long eta = Math.round(perStep * (steps - r.step()));
                err.printf("\rstep %d/%d | loss %.4f (base %.3f sampler %.3f lcm %.3f) ntp-ce %.3f | |g| %.3f lr %.2e "
                                + "| %.0f mask rows/s | ETA %dm%02ds   ", r.step(), steps, r.loss(), r.baseCe(),
                        r.samplerCe(), r.lcm(), r.ntpCe(), r.gradNorm(), r.learningRate(), rowsDone / elapsed,
                        eta / 60, eta % 60);
                if (log != null && (r.step() % logEvery == 0 || r.step() == steps)) {
                    ObjectNode n = json.createObjectNode();
                    n.put("step", r.step());
                    n.put("loss", r.loss());
                    n.put("base_ce", r.baseCe());
                    n.put("sampler_ce", r.samplerCe());
                    n.put("lcm", r.lcm());
                    n.put("ntp_ce", r.ntpCe());
                    n.put("grad_norm", r.gradNorm());
                    n.put("lr", r.learningRate());
                    n.put("elapsed_s", elapsed);
                    Files.writeString(log, n + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                            StandardOpenOption.APPEND);
                }
                if (checkpointEvery > 0 && r.step() % checkpointEvery == 0) {
                    trainer.saveCheckpoint(ckpt);
                }
            }
            err.println();
            MtpAdapter trained = trainer.adapter();
            if (acceptancePrompts > 0) {
                trained = withAcceptance(bundle, trained, sequences, k, threads, err);
            }
            trained.save(out, bundle.model());
            err.printf("wrote %s after %d steps in %.1f s%n", out, trainer.step(),
                    (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }

    /** The trained adapter with its acceptance table, measured on the openings (8 tokens) of training sequences. */
    private MtpAdapter withAcceptance(ModelBundle bundle, MtpAdapter trained, List<TrainingSequence> sequences, int k,
                                      int threads, PrintStream err) {
        List<int[]> openings = new ArrayList<>();
        for (TrainingSequence s : sequences) {
            if (openings.size() == acceptancePrompts) {
                break;
            }
            if (s.tokens().length > 1) {
                openings.add(Arrays.copyOf(s.tokens(), Math.min(8, s.tokens().length - 1)));
            }
        }
        List<Integer> ks = IntStream.of(1, 2, 4, 8, k).filter(x -> x <= k).distinct().sorted()
                .boxed().toList();
        long t = System.nanoTime();
        try (Backend backend = new CpuBackend(threads)) {
            var results = AcceptanceMeasurement.measure(bundle.model(), backend, trained,
                    new SamplerHeadDrafter(bundle.model(), trained, backend), openings, ks,
                    List.of(BlockLayout.LINEAR,
                            BlockLayout.QUADRATIC), 64);
            err.printf("acceptance on %d training openings (%.1f s): quadratic k=%d %.2f tokens/pass%n",
                    openings.size(), (System.nanoTime() - t) / 1e9, k, results.get(results.size() - 1).tokensPerPass());
            return trained.withAcceptance(AcceptanceMeasurement.table(openings.size()
                    + " training openings, 64 tokens, greedy", results));
        }
    }
}
