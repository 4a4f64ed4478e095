package io.mtpspark.engine.mtp;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.cli.Main;
import io.mtpspark.engine.model.LayerWeights;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.LlamaWeights;
import io.mtpspark.engine.model.ModelFingerprint;
import io.mtpspark.engine.model.ModelLoader;
import io.mtpspark.engine.model.RandomModel;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.safetensors.SafetensorsFile;
import io.mtpspark.engine.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An adapter follows its model through {@code convert --dtype}: the base-model match is on architecture plus a
 * content fingerprint that rounding to BF16 or F16 does not change, and when the model really is another one the
 * message says what differs (architecture fields, or the weights).
 */
class AdapterAcrossDtypesTest {
    private static final Path SHIPPED = TestModels.storiesDir().resolve("mtp-adapter.safetensors");

    private static LlamaModel convert(Path out, String dtype) {
        assertEquals(0, Main.execute("convert", "--model", TestModels.storiesBin().toString(), "--out",
                out.toString(), "--dtype", dtype));
        return ModelLoader.load(out);
    }

    @Test
    void theShippedAdapterLoadsOnTheShippedModelAndItsConversions(@TempDir Path dir) {
        LlamaModel f32 = TestModels.stories();
        assertEquals(8, MtpAdapter.load(SHIPPED, f32).k());
        for (String dtype : new String[]{"BF16", "F16", "F32"}) {
            LlamaModel converted = convert(dir.resolve(dtype), dtype);
            assertEquals(ModelFingerprint.dtypeIndependent(f32), ModelFingerprint.dtypeIndependent(converted), dtype);
            assertEquals(8, MtpAdapter.load(SHIPPED, converted).k(), dtype);
        }
    }

    @Test
    void anAdapterTrainedOnTheBf16CopyLoadsOnTheF32Original(@TempDir Path dir) throws Exception {
        LlamaModel bf16 = convert(dir.resolve("bf16"), "BF16");
        Path file = dir.resolve("a.safetensors");
        MtpAdapter.random(bf16, 2, 2, 5).save(file, bf16);
        assertEquals(2, MtpAdapter.load(file, TestModels.stories()).k());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            // older engines compare the exact fingerprint: it stays in the file for them
            assertTrue(f.metadata().get("mtp_config").contains(ModelFingerprint.of(bf16)));
        }
    }

    /** An adapter written before the content fingerprint: still matched exactly, and the refusal says why. */
    @Test
    void anOlderAdapterKeepsItsExactMatch(@TempDir Path dir) throws Exception {
        LlamaModel f32 = TestModels.stories();
        Path file = dir.resolve("old.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(SHIPPED)) {
            for (var e : f.tensors().entrySet()) {
                w.add(e.getKey(), e.getValue().shape(), f.readFloats(e.getKey()), DType.F32);
            }
            w.metadata("mtp_config", f.metadata().get("mtp_config")
                    .replaceAll(",\"content_fingerprint\":\"[^\"]*\"", ""));
        }
        w.write(file);
        assertEquals(8, MtpAdapter.load(file, f32).k());
        LlamaModel bf16 = convert(dir.resolve("bf16"), "BF16");
        EngineException e = assertThrows(EngineException.class, () -> MtpAdapter.load(file, bf16));
        assertTrue(e.getMessage().contains("written by an older version that recorded only the exact-weights "
                + "fingerprint"), e.getMessage());
    }

    @Test
    void aDifferentArchitectureIsNamedFieldByField(@TempDir Path dir) {
        LlamaModel other = RandomModel.create(RandomModel.tinyConfig(512, false), 1);
        EngineException e = assertThrows(EngineException.class, () -> MtpAdapter.load(SHIPPED, other));
        String m = e.getMessage();
        assertTrue(m.contains("adapter was trained for a different base model"), m);
        assertTrue(m.contains("dim 64 (adapter's base) vs 48 (" + other.source() + ")"), m);
        assertTrue(m.contains("n_layers 5 vs 2"), m);
        assertTrue(!m.contains("vocab_size"), "equal fields are not listed: " + m);
    }

    @Test
    void sameArchitectureDifferentWeightsSaysSo() {
        LlamaModel stories = TestModels.stories();
        LlamaWeights w = stories.weights();
        LayerWeights[] layers = w.layers().clone();
        float[] wq = layers[3].wq().toFloatArray();
        for (int i = 0; i < wq.length; i++) {
            wq[i] = -wq[i]; // a different model of the same shape (a fine-tune would flip fewer)
        }
        LayerWeights l = layers[3];
        layers[3] = new LayerWeights(l.attnNorm(),
                io.mtpspark.engine.tensor.WeightTensor.ofFloats(wq, l.wq().rows(), l.wq().cols()), l.wk(), l.wv(), l.wo(), l.bq(), l.bk(), l.bv(), l.ffnNorm(),
                l.wGate(), l.wDown(), l.wUp());
        LlamaModel changed = new LlamaModel(stories.config(), new LlamaWeights(w.tokenEmbedding(), layers,
                w.finalNorm(), w.classifier()), "changed");
        assertNotEquals(ModelFingerprint.dtypeIndependent(stories), ModelFingerprint.dtypeIndependent(changed));
        EngineException e = assertThrows(EngineException.class, () -> MtpAdapter.load(SHIPPED, changed));
        String m = e.getMessage();
        assertTrue(m.contains("changed has the same architecture (dim 64, 5 layers, vocab 512) but different "
                + "weights"), m);
        assertTrue(m.contains(ModelFingerprint.dtypeIndependent(changed)), m);
    }
}
