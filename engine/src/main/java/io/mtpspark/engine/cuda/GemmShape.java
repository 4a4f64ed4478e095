package io.mtpspark.engine.cuda;

/**
 * The column-major GEMM that computes the engine's row-major matmul, {@code out[r][o] = x[r] · w[o]} with {@code w}
 * as {@code [outDim][inDim]}: {@code C = op(A) · op(B)} with A = w, B = x, C = out, all passed as they lie in memory.
 * A row-major {@code [a][b]} matrix read column-major is the {@code b × a} matrix, its transpose; so {@code out}
 * (row-major {@code [rows][outDim]}) is the column-major {@code outDim × rows} matrix {@code outᵀ = w · xᵀ}. Memory of
 * w reads as {@code wᵀ} ({@code inDim × outDim}, lda = inDim), so A needs a transpose; memory of x reads as
 * {@code xᵀ} ({@code inDim × rows}, ldb = inDim), which is what is wanted, so B does not. Kept apart from the cuBLAS
 * call so a test can check it against a reference column-major GEMM without a GPU.
 */
record GemmShape(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc) {

    static GemmShape forMatmul(int rows, int inDim, int outDim) {
        return new GemmShape(true, false, outDim, rows, inDim, inDim, inDim, outDim);
    }
}
