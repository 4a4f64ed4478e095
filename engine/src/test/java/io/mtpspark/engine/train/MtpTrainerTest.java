package io.mtpspark.engine.train;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.ModelFingerprint;
import io.mtpspark.engine.model.RandomModel;
import io.mtpspark.engine.mtp.LoraTarget;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.MtpAdapterConfig;
import io.mtpspark.engine.mtp.SamplerOptions;
import io.mtpspark.engine.tensor.ScalarBackend;
import io.mtpspark.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MtpTrainerTest {
    private static final LlamaConfig CONFIG = RandomModel.tinyConfig(48, false);

    /** Data with learnable structure: repeated short motifs, so future tokens are predictable from the past. */
    private static List<TrainingSequence> data(int count) {
        SplittableRandom rng = new SplittableRandom(3);
        List<TrainingSequence> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] motif = new int[3 + rng.nextInt(3)];
            for (int j = 0; j < motif.length; j++) {
                motif[j] = 3 + rng.nextInt(45);
            }
            int[] t = new int[24];
            t[0] = 1;
            for (int j = 1; j < t.length; j++) {
                t[j] = motif[(j - 1) % motif.length];
            }
            out.add(new TrainingSequence(t, 1));
        }
        return out;
    }

    private static TrainingConfig config(int steps, int threads) {
        return new TrainingConfig(4, 4, 1.0f, 3e-3, 5, steps, 4, 0.01, 0.9, 0.999, 1e-8, 1.0, 11, true,
                LossOptions.PAPER, threads);
    }

    private static MtpAdapter fresh(LlamaModel model) {
        MtpAdapterConfig ac = new MtpAdapterConfig(4, 4, 1.0f, EnumSet.allOf(LoraTarget.class), SamplerOptions.DEFAULT,
                ModelFingerprint.dtypeIndependent(model));
        return MtpAdapter.initialForTraining(model, ac, 5);
    }

    @Test
    void trainingLowersTheLossAndLeavesTheBaseModelUntouched() {
        LlamaModel model = RandomModel.create(CONFIG, 9);
        float[] before = baseLogits(model);
        List<TrainingSequence> data = data(24);
        try (MtpTrainer trainer = new MtpTrainer(model, fresh(model), config(60, 2), data)) {
            double start = trainer.evaluate(data).loss();
            for (int i = 0; i < 60; i++) {
                trainer.trainStep();
            }
            double end = trainer.evaluate(data).loss();
            assertTrue(end < 0.7 * start, "loss " + start + " -> " + end);
        }
        assertArrayEquals(before, baseLogits(model), "NTP logits of the base model are bit-identical after training");
    }

    @Test
    void resumeContinuesBitForBit(@TempDir Path dir) throws Exception {
        LlamaModel model = RandomModel.create(CONFIG, 9);
        List<TrainingSequence> data = data(16);
        MtpAdapter straight = fresh(model);
        try (MtpTrainer t = new MtpTrainer(model, straight, config(10, 2), data)) {
            for (int i = 0; i < 10; i++) {
                t.trainStep();
            }
        }
        Path ckpt = dir.resolve("ckpt.safetensors");
        try (MtpTrainer t = new MtpTrainer(model, fresh(model), config(10, 2), data)) {
            for (int i = 0; i < 4; i++) {
                t.trainStep();
            }
            t.saveCheckpoint(ckpt);
        }
        MtpAdapter resumed = fresh(model);
        try (MtpTrainer t = new MtpTrainer(model, resumed, config(10, 2), data)) {
            t.restore(ckpt);
            assertEquals(4, t.step());
            while (t.step() < 10) {
                t.trainStep();
            }
        }
        assertArrayEquals(straight.maskEmbeddings(), resumed.maskEmbeddings());
        for (int l = 0; l < CONFIG.nLayers(); l++) {
            for (LoraTarget target : LoraTarget.values()) {
                assertArrayEquals(straight.lora(l, target).up(), resumed.lora(l, target).up(), l + " " + target);
                assertArrayEquals(straight.lora(l, target).down(), resumed.lora(l, target).down());
            }
        }
        assertArrayEquals(straight.sampler().fc1(), resumed.sampler().fc1());
        assertArrayEquals(straight.sampler().norm2(), resumed.sampler().norm2());
        // a checkpoint from other settings is refused, not silently mixed
        try (MtpTrainer t = new MtpTrainer(model, fresh(model), config(10, 1), data)) {
            EngineException e = assertThrows(EngineException.class, () -> t.restore(ckpt));
            assertTrue(e.getMessage().contains("same --seed and --threads"), e.getMessage());
        }
    }

    @Test
    void corpusReaderHandlesTextAndPromptCompletionAndNamesBadLines(@TempDir Path dir) throws Exception {
        Tokenizer tok = new Tokenizer() {
            @Override
            public int[] encode(String text) {
                int[] ids = new int[text.length() + 1];
                ids[0] = 1;
                for (int i = 0; i < text.length(); i++) {
                    ids[i + 1] = 3 + (text.charAt(i) % 40);
                }
                return ids;
            }

            @Override
            public String decode(int previous, int[] ids) {
                return "";
            }

            @Override
            public int vocabSize() {
                return 48;
            }
        };
        Path jsonl = dir.resolve("c.jsonl");
        Files.writeString(jsonl, "{\"text\":\"abcdef\"}\n\n{\"prompt\":\"abc\",\"completion\":\"defgh\"}\n");
        List<TrainingSequence> seqs = CorpusReader.read(jsonl, tok, 64);
        assertEquals(2, seqs.size());
        assertEquals(0, seqs.get(0).lossStart());
        assertEquals(3, seqs.get(1).lossStart(), "loss starts at the last prompt token");
        Files.writeString(jsonl, "{\"text\":\"abcdef\"}\n{\"txt\":\"oops\"}\n");
        EngineException e = assertThrows(EngineException.class, () -> CorpusReader.read(jsonl, tok, 64));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        Path plain = dir.resolve("c.txt");
        Files.writeString(plain, "hello world\nsecond line\n");
        assertEquals(2, CorpusReader.read(plain, tok, 5).size());
        assertEquals(5, CorpusReader.read(plain, tok, 5).get(0).tokens().length);
    }

    private static float[] baseLogits(LlamaModel model) {
        LlamaForward f = new LlamaForward(model, new ScalarBackend(), 8, 32);
        KvCache cache = new KvCache(model.config(), 32);
        f.forward(new int[]{1, 5, 9, 14}, new int[]{0, 1, 2, 3}, 4, AttentionMask.CAUSAL, cache, new int[]{0, 1, 2, 3},
                4);
        return Arrays.copyOf(f.logits(), 4 * model.config().vocabSize());
    }
}
