// After the fused QKV GEMM: row r of qkv (F32, [q | k | v] of widths qDim, kvDim, kvDim) gets its bias (Qwen2; when
// hasBias), RoPE on adjacent pairs of its q and k heads at positions[r] (the host's cos/sin tables, as RopeTable),
// and its k and v written to the KV cache row kvRows[r] of this layer (kc/vc, [rows][kvDim] in kvType). q stays in
// place (F32) for attention. Each thread owns whole pairs, so no barrier is needed.
// Launch: grid = rows, block = a multiple of 32.
#include "reduce.cuh"

extern "C" __global__ void qkv_rope(float* __restrict__ qkv, int rows, const float* __restrict__ bias, int hasBias,
                                    const int* __restrict__ positions, const int* __restrict__ kvRows,
                                    void* __restrict__ kc, void* __restrict__ vc, int kvType, int heads,
                                    int kvHeads, int headDim, const float* __restrict__ cosT,
                                    const float* __restrict__ sinT) {
    int r = blockIdx.x;
    if (r >= rows) {
        return;
    }
    int half = headDim / 2;
    int qDim = heads * headDim;
    int kvDim = kvHeads * headDim;
    int width = qDim + 2 * kvDim;
    float* row = qkv + (long long) r * width;
    long long t = (long long) positions[r] * half;
    long long dst = (long long) kvRows[r] * kvDim;
    // pairs of q heads, then pairs of k heads, then v pairs (copied, not rotated)
    int pairs = (heads + 2 * kvHeads) * half;
    for (int p = threadIdx.x; p < pairs; p += blockDim.x) {
        int e = 2 * p; // first element of the pair within the row
        float a = row[e];
        float b = row[e + 1];
        if (hasBias) {
            a += bias[e];
            b += bias[e + 1];
        }
        if (e < qDim + kvDim) {
            int m = (e % headDim) / 2;
            float c = cosT[t + m];
            float s = sinT[t + m];
            float ra = a * c - b * s;
            float rb = a * s + b * c;
            a = ra;
            b = rb;
        }
        if (e < qDim) {
            row[e] = a;
            row[e + 1] = b;
        } else if (e < qDim + kvDim) {
            mtp_store(kc, dst + e - qDim, a, kvType);
            mtp_store(kc, dst + e - qDim + 1, b, kvType);
        } else {
            mtp_store(vc, dst + e - qDim - kvDim, a, kvType);
            mtp_store(vc, dst + e - qDim - kvDim + 1, b, kvType);
        }
    }
}
