package io.mtpspark.engine.decode;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.kvcache.SequenceCache;
import io.mtpspark.engine.llama.BlockBatch;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.CpuBackend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Interleaved decoding (the job's speedup sample): every decoder's results are what it decodes alone, and a
 * request's time under one decoder excludes the steps of the others, which here sleep 20 ms each.
 */
class InterleavedRunTest {
    private static final long SLEEP_MS = 20;

    @Test
    void resultsAreEachDecodersOwnAndTimesExcludeTheOtherDecodersSteps() {
        LlamaModel model = TestModels.stories();
        Backend backend = new CpuBackend(1);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            requests.add(new GenerationRequest(new int[]{1, 40 + 7 * i, 90 + i}, 20, SamplingOptions.GREEDY));
        }
        Decoder fast = new AutoregressiveDecoder(new LlamaForward(model, backend, 8, 256), 2);
        Decoder slow = new AutoregressiveDecoder(new SleepingForward(new LlamaForward(model, backend, 8, 256)), 2);
        List<List<InterleavedRun.Timed>> runs = InterleavedRun.run(List.of(fast, slow), requests);

        List<GenerationResult> alone = new AutoregressiveDecoder(new LlamaForward(model, backend, 8, 256), 2)
                .generateAll(requests);
        for (int i = 0; i < requests.size(); i++) {
            assertArrayEquals(alone.get(i).generatedIds(), runs.get(0).get(i).result().generatedIds());
            assertArrayEquals(alone.get(i).generatedIds(), runs.get(1).get(i).result().generatedIds());
            long slowFloor = runs.get(1).get(i).result().forwardPasses() * SLEEP_MS * 1_000_000L;
            assertTrue(runs.get(1).get(i).nanos() >= slowFloor, "the slow decoder's own sleeps count: " + i);
            assertTrue(runs.get(0).get(i).nanos() < slowFloor / 2, "request " + i + " under the fast decoder took "
                    + runs.get(0).get(i).nanos() / 1e6 + " ms: the slow decoder's steps were counted");
        }
        assertEquals(0, fast.active());
        assertEquals(0, slow.active());
    }

    @Test
    void aFailingDecoderLeavesEveryDecoderIdle() {
        LlamaModel model = TestModels.stories();
        Backend backend = new CpuBackend(1);
        Decoder good = new AutoregressiveDecoder(new LlamaForward(model, backend, 8, 256), 2);
        Decoder bad = new AutoregressiveDecoder(new FailingForward(new LlamaForward(model, backend, 8, 256)), 2);
        List<GenerationRequest> requests = List.of(new GenerationRequest(new int[]{1, 50}, 8, SamplingOptions.GREEDY),
                new GenerationRequest(new int[]{1, 60}, 8, SamplingOptions.GREEDY));
        assertThrows(IllegalStateException.class, () -> InterleavedRun.run(List.of(good, bad), requests));
        assertEquals(0, good.active());
        assertEquals(0, bad.active());
        assertEquals(2, good.generateAll(requests).size(), "usable again");
    }

    /** A forward that sleeps before each call: a decoder much slower than the other. */
    private static class SleepingForward implements BlockForward {
        final BlockForward inner;

        SleepingForward(BlockForward inner) {
            this.inner = inner;
        }

        @Override
        public void forward(BlockBatch batch, MtpAdapter adapter) {
            try {
                Thread.sleep(SLEEP_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            inner.forward(batch, adapter);
        }

        @Override
        public LlamaModel model() {
            return inner.model();
        }

        @Override
        public Backend backend() {
            return inner.backend();
        }

        @Override
        public int maxRows() {
            return inner.maxRows();
        }

        @Override
        public int maxContext() {
            return inner.maxContext();
        }

        @Override
        public int maxLogitRows() {
            return inner.maxLogitRows();
        }

        @Override
        public SequenceCache newCache(int capacity) {
            return inner.newCache(capacity);
        }

        @Override
        public float[] hidden() {
            return inner.hidden();
        }

        @Override
        public float[] logits() {
            return inner.logits();
        }
    }

    /** Fails on its third forward. */
    private static final class FailingForward extends SleepingForward {
        private int calls;

        FailingForward(BlockForward inner) {
            super(inner);
        }

        @Override
        public void forward(BlockBatch batch, MtpAdapter adapter) {
            if (++calls == 3) {
                throw new IllegalStateException("planted failure");
            }
            inner.forward(batch, adapter);
        }
    }
}
