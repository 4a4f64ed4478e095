package io.mtpspark.engine.cuda;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.device.ElementType;
import org.bytedeco.cuda.cublas.cublasLtContext;
import org.bytedeco.cuda.cublas.cublasLtMatmulAlgo_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulDescOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulHeuristicResult_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulPreferenceOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatrixLayoutOpaque_t;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;

import java.util.HashMap;
import java.util.Map;

/**
 * cuBLASLt GEMMs with one algorithm per weight shape and no split-K (GPU_ENGINE.md §3): the algorithm for a shape
 * (transposes, m, k, leading dimensions, types) is the heuristic's first choice for {@link #REFERENCE_ROWS} columns
 * among algorithms without a split-K reduction, with split-K forced to 1, and it serves every column count n of
 * that shape. A fixed tile configuration without split-K sums each output element over k in the same order whatever
 * n is, so a row of an 81-row MTP block gets the bits it gets in a 1-row step. A shape the pinned algorithm cannot run
 * at some n is refused with the numbers rather than silently given another algorithm. Uses the device's fixed
 * workspace, so it can be captured into graphs. Compile-checked here; run only on a GPU.
 */
final class PinnedGemm implements AutoCloseable {
    /** The column count the heuristic is asked about (a typical MTP block's rows). */
    static final int REFERENCE_ROWS = 128;
    private static final int ALIGNMENT = 16;

    private final cublasLtContext lt = new cublasLtContext();
    private final CUstream_st stream;
    private final DeviceView workspace = new DeviceView();
    private final long workspaceAddress;
    private final long workspaceBytes;
    private final Map<Shape, Plan> plans = new HashMap<>();
    private final FloatPointer alpha = new FloatPointer(1);
    private final FloatPointer beta = new FloatPointer(1);
    private final DeviceView va = new DeviceView();
    private final DeviceView vb = new DeviceView();
    private final DeviceView vc = new DeviceView();

    PinnedGemm(CUstream_st stream, long workspaceAddress, long workspaceBytes) {
        this.stream = stream;
        this.workspaceAddress = workspaceAddress;
        this.workspaceBytes = workspaceBytes;
        CudaErrors.checkCublas(cublas.cublasLtCreate(lt), "cublasLtCreate");
    }

    /** Column-major {@code C = alpha·op(A)·op(B) + beta·C}, as {@code cublasGemmEx} with F32 compute. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alphaValue, long a, ElementType aType,
              int lda, long b, ElementType bType, int ldb, float betaValue, long c, ElementType cType, int ldc) {
        Shape s = new Shape(transA, transB, m, k, lda, ldb, ldc, aType, bType, cType);
        Plan p = plans.get(s);
        if (p == null) {
            p = new Plan(s);
            plans.put(s, p);
        }
        Layouts l = p.layouts(n);
        alpha.put(alphaValue);
        beta.put(betaValue);
        int status = cublas.cublasLtMatmul(lt, p.desc, alpha, va.at(a), p.aLayout, vb.at(b), l.b, beta, vc.at(c), l.c,
                vc.at(c), l.c, p.algo, workspace.at(workspaceAddress), workspaceBytes, stream);
        if (status != cublas.CUBLAS_STATUS_SUCCESS) {
            CudaErrors.checkCublas(status, "cublasLtMatmul(" + s + ", n " + n + ")");
        }
    }

    private static int type(ElementType t) {
        return t == ElementType.BF16 ? cudart.CUDA_R_16BF : cudart.CUDA_R_32F;
    }

    private static cublasLtMatrixLayoutOpaque_t layout(ElementType t, int rows, int cols, int ld) {
        PointerPointer<cublasLtMatrixLayoutOpaque_t> out = new PointerPointer<>(1);
        CudaErrors.checkCublas(cublas.cublasLtMatrixLayoutCreate(out, type(t), rows, cols, ld),
                "cublasLtMatrixLayoutCreate(" + rows + " x " + cols + ", ld " + ld + ")");
        return new cublasLtMatrixLayoutOpaque_t(out.get(0));
    }

    @Override
    public void close() {
        for (Plan p : plans.values()) {
            p.close();
        }
        plans.clear();
        cublas.cublasLtDestroy(lt);
    }

    private record Shape(boolean transA, boolean transB, int m, int k, int lda, int ldb, int ldc, ElementType a,
                         ElementType b, ElementType c) {
    }

    private record Layouts(cublasLtMatrixLayoutOpaque_t b, cublasLtMatrixLayoutOpaque_t c) {
    }

    /** One shape's descriptor, A layout and pinned algorithm; B and C layouts per column count. */
    private final class Plan {
        private final Shape s;
        private final cublasLtMatmulDescOpaque_t desc;
        private final cublasLtMatrixLayoutOpaque_t aLayout;
        private final cublasLtMatmulAlgo_t algo;
        private final cublasLtMatmulHeuristicResult_t result = new cublasLtMatmulHeuristicResult_t();
        private final Map<Integer, Layouts> byRows = new HashMap<>();

        Plan(Shape s) {
            this.s = s;
            PointerPointer<cublasLtMatmulDescOpaque_t> d = new PointerPointer<>(1);
            CudaErrors.checkCublas(cublas.cublasLtMatmulDescCreate(d, cublas.CUBLAS_COMPUTE_32F, cudart.CUDA_R_32F),
                    "cublasLtMatmulDescCreate");
            desc = new cublasLtMatmulDescOpaque_t(d.get(0));
            IntPointer op = new IntPointer(1);
            op.put(s.transA() ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N);
            CudaErrors.checkCublas(cublas.cublasLtMatmulDescSetAttribute(desc, cublas.CUBLASLT_MATMUL_DESC_TRANSA, op,
                    4), "cublasLtMatmulDescSetAttribute(TRANSA)");
            op.put(s.transB() ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N);
            CudaErrors.checkCublas(cublas.cublasLtMatmulDescSetAttribute(desc, cublas.CUBLASLT_MATMUL_DESC_TRANSB, op,
                    4), "cublasLtMatmulDescSetAttribute(TRANSB)");
            aLayout = s.transA() ? layout(s.a(), s.k(), s.m(), s.lda()) : layout(s.a(), s.m(), s.k(), s.lda());
            Layouts ref = layouts(REFERENCE_ROWS, false);
            PointerPointer<cublasLtMatmulPreferenceOpaque_t> pp = new PointerPointer<>(1);
            CudaErrors.checkCublas(cublas.cublasLtMatmulPreferenceCreate(pp), "cublasLtMatmulPreferenceCreate");
            cublasLtMatmulPreferenceOpaque_t pref = new cublasLtMatmulPreferenceOpaque_t(pp.get(0));
            try {
                LongPointer ws = new LongPointer(1);
                ws.put(workspaceBytes);
                CudaErrors.checkCublas(cublas.cublasLtMatmulPreferenceSetAttribute(pref,
                        cublas.CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, ws, 8), "preference workspace");
                IntPointer v = new IntPointer(1);
                v.put(cublas.CUBLASLT_REDUCTION_SCHEME_NONE); // no split-K reduction at all
                CudaErrors.checkCublas(cublas.cublasLtMatmulPreferenceSetAttribute(pref,
                        cublas.CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, v, 4), "preference reduction scheme");
                v.put(ALIGNMENT); // operands at row offsets (LoRA rows, tests), not only at allocations
                for (int attr : new int[]{cublas.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                        cublas.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, cublas.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                        cublas.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES}) {
                    CudaErrors.checkCublas(cublas.cublasLtMatmulPreferenceSetAttribute(pref, attr, v, 4),
                            "preference alignment");
                }
                int[] found = new int[1];
                int status = cublas.cublasLtMatmulAlgoGetHeuristic(lt, desc, aLayout, ref.b(), ref.c(), ref.c(), pref,
                        1, result, found);
                if (status != cublas.CUBLAS_STATUS_SUCCESS || found[0] == 0) {
                    throw new EngineException("cuBLASLt has no algorithm without split-K for " + s + " ("
                            + CudaErrors.cublas(status) + "); run with -Dmtp.cuda.gemm=default");
                }
            } finally {
                cublas.cublasLtMatmulPreferenceDestroy(pref);
            }
            algo = result.algo();
            IntPointer one = new IntPointer(1);
            one.put(1);
            CudaErrors.checkCublas(cublas.cublasLtMatmulAlgoConfigSetAttribute(algo,
                    cublas.CUBLASLT_ALGO_CONFIG_SPLITK_NUM, one, 4), "algo split-K = 1");
            one.put(cublas.CUBLASLT_REDUCTION_SCHEME_NONE);
            CudaErrors.checkCublas(cublas.cublasLtMatmulAlgoConfigSetAttribute(algo,
                    cublas.CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME, one, 4), "algo reduction scheme");
            byRows.put(REFERENCE_ROWS, ref);
            check(REFERENCE_ROWS, ref);
        }

        Layouts layouts(int n) {
            Layouts l = byRows.get(n);
            if (l == null) {
                l = layouts(n, true);
                byRows.put(n, l);
            }
            return l;
        }

        private Layouts layouts(int n, boolean check) {
            cublasLtMatrixLayoutOpaque_t b = s.transB() ? layout(s.b(), n, s.k(), s.ldb())
                    : layout(s.b(), s.k(), n, s.ldb());
            Layouts l = new Layouts(b, layout(s.c(), s.m(), n, s.ldc()));
            if (check) {
                check(n, l);
            }
            return l;
        }

        /** Refuses a column count the pinned algorithm does not support (never falls back to another one). */
        private void check(int n, Layouts l) {
            cublasLtMatmulHeuristicResult_t r = new cublasLtMatmulHeuristicResult_t();
            int status = cublas.cublasLtMatmulAlgoCheck(lt, desc, aLayout, l.b(), l.c(), l.c(), algo, r);
            if (status != cublas.CUBLAS_STATUS_SUCCESS) {
                throw new EngineException("the cuBLASLt algorithm pinned for " + s + " does not run " + n
                        + " columns (" + CudaErrors.cublas(status) + "); run with -Dmtp.cuda.gemm=default");
            }
            if (r.workspaceSize() > workspaceBytes) {
                throw new EngineException("the cuBLASLt algorithm pinned for " + s + " needs " + r.workspaceSize()
                        + " workspace bytes at " + n + " columns; the fixed workspace has " + workspaceBytes);
            }
        }

        void close() {
            for (Layouts l : byRows.values()) {
                cublas.cublasLtMatrixLayoutDestroy(l.b());
                cublas.cublasLtMatrixLayoutDestroy(l.c());
            }
            cublas.cublasLtMatrixLayoutDestroy(aLayout);
            cublas.cublasLtMatmulDescDestroy(desc);
        }
    }
}
