package io.mtpspark.engine.llama;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.ScalarBackend;
import io.mtpspark.engine.tensor.WeightTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * stories260K with its matrices converted to BF16/F16 in memory: the SIMD backend (reading the 16-bit weights
 * directly) generates the same greedy ids as the scalar oracle reading the same 16-bit weights.
 */
class WeightDTypeDecodingTest {

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16"})
    void simdOnSixteenBitWeightsGeneratesTheOraclesIds(DType dtype) {
        LlamaModel f32 = TestModels.stories();
        LlamaModel narrow = new LlamaModel(f32.config(), f32.weights().to(dtype), f32.source());
        WeightTensor wq = narrow.weights().layers()[0].wq();
        assertEquals(dtype, wq.dtype());
        assertFalse(wq.isHeapF32());
        TestModels.Golden g = TestModels.greedyGoldens().get(0);
        int steps = 120;
        int[] oracle = new AutoregressiveDecoder(new LlamaForward(narrow, new ScalarBackend(), 64, 512))
                .generate(g.promptIds(), steps, SamplingOptions.GREEDY).generatedIds();
        try (CpuBackend cpu = new CpuBackend(2)) {
            int[] simd = new AutoregressiveDecoder(new LlamaForward(narrow, cpu, 64, 512))
                    .generate(g.promptIds(), steps, SamplingOptions.GREEDY).generatedIds();
            assertArrayEquals(oracle, simd, dtype + " weights");
        }
    }
}
