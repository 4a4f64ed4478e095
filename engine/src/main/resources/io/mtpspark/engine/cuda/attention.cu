// Attention of a block of n new rows over the KV cache, with an explicit block mask: every cached column
// (t < cacheLen) is visible to every row, and new column cacheLen + j is visible to row i iff local[i*n + j] != 0.
// Plain causal decoding is the lower-triangular pattern. The mask is taken as given: that real rows never see MTP
// mask rows is the decoder's pattern, not something this kernel decides. GQA: query head h reads kv head
// h / (heads / kvHeads).
// kc/vc are this layer's cache [capacity][kvHeads*headDim] with the block's rows already written at
// cacheLen .. cacheLen+n-1. scores is scratch [n][heads][cacheLen+n] in global memory, since long contexts do not
// fit in shared memory. A row with no visible column gets zeros rather than NaN.
// Launch: grid = (heads, n), block = a multiple of 32 up to 1024.
#include "reduce.cuh"

extern "C" __global__ void attention_block(float* __restrict__ out, const float* __restrict__ q,
                                           const float* __restrict__ kc, const float* __restrict__ vc,
                                           const unsigned char* __restrict__ local, float* __restrict__ scores,
                                           int n, int cacheLen, int heads, int kvHeads, int headDim, float scale) {
    int h = blockIdx.x;
    int i = blockIdx.y;
    int cols = cacheLen + n;
    int kvDim = kvHeads * headDim;
    int qDim = heads * headDim;
    int kvOff = (h / (heads / kvHeads)) * headDim;
    const float* qr = q + (long long) i * qDim + h * headDim;
    float* s = scores + ((long long) i * heads + h) * cols;

    float mx = MTP_NEG_INF;
    for (int t = threadIdx.x; t < cols; t += blockDim.x) {
        float sc = MTP_NEG_INF;
        if (t < cacheLen || local[i * n + (t - cacheLen)]) {
            const float* kr = kc + (long long) t * kvDim + kvOff;
            float d = 0.0f;
            for (int e = 0; e < headDim; e++) {
                d += qr[e] * kr[e];
            }
            sc = d * scale;
        }
        s[t] = sc;
        mx = fmaxf(mx, sc);
    }
    mx = mtp_block_max(mx);

    float sum = 0.0f;
    for (int t = threadIdx.x; t < cols; t += blockDim.x) {
        float e = s[t] == MTP_NEG_INF ? 0.0f : expf(s[t] - mx); // explicit zero: exp(-inf - -inf) would be NaN
        s[t] = e;
        sum += e;
    }
    sum = mtp_block_sum(sum); // its barriers also make every s[t] written above visible to the whole block
    float inv = sum > 0.0f ? 1.0f / sum : 0.0f;

    float* o = out + (long long) i * qDim + h * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float acc = 0.0f;
        for (int t = 0; t < cols; t++) {
            acc += s[t] * vc[(long long) t * kvDim + kvOff + d];
        }
        o[d] = acc * inv;
    }
}
