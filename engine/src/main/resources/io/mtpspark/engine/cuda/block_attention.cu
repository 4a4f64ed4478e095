// Grouped-K/V block attention of the device forward. One CTA per (KV head, sequence, tile of MTP_ATT_THREADS query
// vectors); a query vector is one (row, query head) of the group that shares the KV head, and each thread owns one.
// The CTA streams the sequence's K/V for its KV head through shared memory a tile of columns at a time, so every
// cached column is read once per CTA for all the group's heads and all the block's rows (not once per row and head).
// Every cached column (t < cacheLen) is visible to every row; block column j is visible to row i iff bit j of the
// row's mask words is set (maskWords[(rowStart + i) * maskStride + j / 32], bit j % 32).
// Softmax is online in F32, column by column in column order, over visible columns only: a row's result is a
// function of the ordered visible keys alone, so a real row inside an MTP block computes bit for bit what it computes
// in single-token decoding, and nothing depends on the batch (exactness, GPU_ENGINE.md §3).
// seg holds 4 ints per sequence: first row in the batch, rows, cached length, first KV row of its slot in this
// layer (kc/vc are [rows][kvHeads * headDim] in kvType). q is read from the QKV buffer (F32, rows of qkvStride);
// out rows are [heads * headDim] in outType. A row with no visible column gets zeros. headDim <= MTP_MAX_HEAD_DIM.
// Launch: grid = (kvHeads, sequences, ceil(max rows * group / MTP_ATT_THREADS)), block = MTP_ATT_THREADS.
#include "reduce.cuh"

#define MTP_MAX_HEAD_DIM 128
#define MTP_ATT_THREADS 64
#define MTP_ATT_TILE 16

extern "C" __global__ void block_attention(void* __restrict__ out, int outType, const float* __restrict__ qkv,
                                           int qkvStride, const void* __restrict__ kc, const void* __restrict__ vc,
                                           int kvType, const int* __restrict__ seg,
                                           const unsigned int* __restrict__ maskWords, int maskStride, int heads,
                                           int kvHeads, int headDim, float scale) {
    __shared__ float ks[MTP_ATT_TILE * MTP_MAX_HEAD_DIM];
    __shared__ float vs[MTP_ATT_TILE * MTP_MAX_HEAD_DIM];
    int kvh = blockIdx.x;
    int s = blockIdx.y;
    int rowStart = seg[4 * s];
    int rows = seg[4 * s + 1];
    int cacheLen = seg[4 * s + 2];
    int kvBase = seg[4 * s + 3];
    int group = heads / kvHeads;
    int kvDim = kvHeads * headDim;
    int v = blockIdx.z * MTP_ATT_THREADS + threadIdx.x;
    int i = v / group;            // row within the sequence's block
    int h = kvh * group + v % group;
    bool active = i < rows;
    int cols = cacheLen + rows;
    float q[MTP_MAX_HEAD_DIM];
    float acc[MTP_MAX_HEAD_DIM];
    float m = MTP_NEG_INF;
    float l = 0.0f;
    const unsigned int* words = maskWords + (long long) (rowStart + (active ? i : 0)) * maskStride;
    if (active) {
        const float* qr = qkv + (long long) (rowStart + i) * qkvStride + h * headDim;
        for (int d = 0; d < headDim; d++) {
            q[d] = qr[d];
            acc[d] = 0.0f;
        }
    }
    if (blockIdx.z * MTP_ATT_THREADS >= rows * group) {
        return; // the whole CTA has no query vector (the grid covers the longest block of the batch)
    }
    for (int t0 = 0; t0 < cols; t0 += MTP_ATT_TILE) {
        int n = cols - t0 < MTP_ATT_TILE ? cols - t0 : MTP_ATT_TILE;
        __syncthreads(); // the previous tile is no longer being read
        for (int e = threadIdx.x; e < n * headDim; e += blockDim.x) {
            int t = e / headDim;
            int d = e - t * headDim;
            long long at = (long long) (kvBase + t0 + t) * kvDim + kvh * headDim + d;
            ks[t * headDim + d] = mtp_load(kc, at, kvType);
            vs[t * headDim + d] = mtp_load(vc, at, kvType);
        }
        __syncthreads();
        if (!active) {
            continue;
        }
        for (int t = 0; t < n; t++) {
            int col = t0 + t;
            if (col >= cacheLen) {
                int j = col - cacheLen;
                if (((words[j >> 5] >> (j & 31)) & 1u) == 0u) {
                    continue;
                }
            }
            const float* kr = ks + t * headDim;
            float dot = 0.0f;
            for (int d = 0; d < headDim; d++) {
                dot += q[d] * kr[d];
            }
            float sc = dot * scale;
            if (sc > m) {
                float c = expf(m - sc); // 0 for the first visible column (m = -inf)
                l *= c;
                for (int d = 0; d < headDim; d++) {
                    acc[d] *= c;
                }
                m = sc;
            }
            float p = expf(sc - m);
            l += p;
            const float* vr = vs + t * headDim;
            for (int d = 0; d < headDim; d++) {
                acc[d] += p * vr[d];
            }
        }
    }
    if (active) {
        float inv = l > 0.0f ? 1.0f / l : 0.0f;
        long long o = (long long) (rowStart + i) * heads * headDim + h * headDim;
        for (int d = 0; d < headDim; d++) {
            mtp_store(out, o + d, acc[d] * inv, outType);
        }
    }
}
