// Speculative sampling of one decode step on the device, one block per sequence (segment), in place of argmax_rows:
// it writes per logit row the token mtp_verify then treats as that row's argmax, so verification, compaction, the
// stop cut and the sampler head run unchanged. A segment's logit rows are its real rows r_0..r_d; the draft at row g
// is the token of real row g + 1 (a one-hot proposal, as the host decoders' MtpDecoder.verify). For g = 0.. : p_g =
// softmax(logits / T) with top-k then top-p (Sampler.distribution's rule: the k most likely, then the shortest
// most-likely-first prefix reaching mass top-p, ties by lower id, renormalised); the draft is accepted with
// probability p_g(draft) (min(1, p/q) with q one-hot), writing the draft; a rejection writes a draw from the
// residual p_g without the draft, renormalised, and ends the segment; after d acceptances row d writes a draw from
// p_d (the bonus). Temperature 0 writes each row's argmax (ties to the lowest id) and leaves acceptance to
// mtp_verify. Uniforms are counter-based (SplitMix64 of the sequence's seed and the row's position, 2 per position:
// accept, draw), so a sequence's tokens depend on its seed and its own tokens only, never on the batch around it;
// each position's draws are used by exactly one step. The logit rows are overwritten with probabilities.
// params: [segments][5] temperature (float bits), top-k (0 = off), top-p (float bits, 1 = off), seed low, high.
// segLogits: [segments][2] first logit index, count (0 = skip). Launch: grid = segments, block = a multiple of
// 32 up to MTP_SAMPLE_THREADS.
#include "reduce.cuh"

#define MTP_SAMPLE_THREADS 256

__device__ __forceinline__ float mtp_uniform(unsigned long long seed, int position, int purpose) {
    unsigned long long z = seed + 0x9e3779b97f4a7c15ULL * (unsigned long long) (2LL * position + purpose + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (float) (z >> 40) * (1.0f / 16777216.0f); // 24 bits: exactly representable, in [0, 1)
}

// Count (or mass) of the row's values whose bit pattern (non-negative floats order as integers) is >= t.
__device__ float mtp_at_least(const float* p, int n, unsigned int t, bool mass) {
    float s = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        if (__float_as_uint(p[i]) >= t) {
            s += mass ? p[i] : 1.0f;
        }
    }
    return mtp_block_sum(s);
}

// Largest bit pattern t with count (or mass) of values >= t at least `need`: the value where the sorted prefix ends.
__device__ unsigned int mtp_threshold(const float* p, int n, float need, bool mass) {
    unsigned int lo = 0u;
    unsigned int hi = 0x7f800001u; // nothing is >= +inf + 1 ulp among finite probabilities
    while (hi - lo > 1u) {
        unsigned int mid = lo + (hi - lo) / 2u;
        if (mtp_at_least(p, n, mid, mass) >= need) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

// Keeps values above bit pattern t and the lowest-id `ties` values equal to it; zeroes the rest. Each thread owns a
// contiguous run of ids so that the ties' id order is a prefix count.
__device__ void mtp_keep_prefix(float* p, int n, unsigned int t, int ties, int* scan) {
    int chunk = (n + blockDim.x - 1) / blockDim.x;
    int from = threadIdx.x * chunk;
    int to = from + chunk < n ? from + chunk : n;
    int mine = 0;
    for (int i = from; i < to; i++) {
        mine += __float_as_uint(p[i]) == t ? 1 : 0;
    }
    __syncthreads();
    scan[threadIdx.x] = mine;
    __syncthreads();
    int before = 0;
    for (int j = 0; j < (int) threadIdx.x; j++) {
        before += scan[j];
    }
    for (int i = from; i < to; i++) {
        unsigned int b = __float_as_uint(p[i]);
        if (b == t) {
            if (before >= ties) {
                p[i] = 0.0f;
            }
            before++;
        } else if (b < t) {
            p[i] = 0.0f;
        }
    }
    __syncthreads();
}

// Inverse-CDF draw in id order (Sampler.draw): the first id whose cumulative mass exceeds coin; the last id with
// mass when rounding leaves coin past the total.
__device__ int mtp_draw(const float* p, int n, float coin, float* sums) {
    int chunk = (n + blockDim.x - 1) / blockDim.x;
    int from = threadIdx.x * chunk;
    int to = from + chunk < n ? from + chunk : n;
    float mine = 0.0f;
    for (int i = from; i < to; i++) {
        mine += p[i];
    }
    __syncthreads();
    sums[threadIdx.x] = mine;
    __syncthreads();
    float cdf = 0.0f;
    for (int j = 0; j < (int) threadIdx.x; j++) {
        cdf += sums[j];
    }
    float found = 16777216.0f;
    float last = -1.0f;
    for (int i = from; i < to; i++) {
        if (p[i] > 0.0f) {
            cdf += p[i];
            last = (float) i;
            if (coin < cdf && found > (float) i) {
                found = (float) i;
            }
        }
    }
    float first = -mtp_block_max(-found); // ids < 2^24 are exact in float
    float lastAll = mtp_block_max(last);
    return first < 16777216.0f ? (int) first : (lastAll >= 0.0f ? (int) lastAll : 0);
}

__device__ int mtp_block_argmax(const float* row, int n) {
    float best = MTP_NEG_INF;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        best = fmaxf(best, row[i]);
    }
    best = mtp_block_max(best);
    float idx = 16777216.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        if (row[i] == best && (float) i < idx) {
            idx = (float) i;
        }
    }
    idx = -mtp_block_max(-idx);
    return idx < 16777216.0f ? (int) idx : 0;
}

extern "C" __global__ void spec_sample(float* __restrict__ logits, int vocab, const int* __restrict__ tokens,
                                       const int* __restrict__ positions, const int* __restrict__ logitRows,
                                       const int* __restrict__ segLogits, const int* __restrict__ params,
                                       int* __restrict__ out) {
    __shared__ float sums[MTP_SAMPLE_THREADS];
    __shared__ int scan[MTP_SAMPLE_THREADS];
    __shared__ float draftMass;
    int s = blockIdx.x;
    int first = segLogits[2 * s];
    int n = segLogits[2 * s + 1];
    if (n <= 0) {
        return;
    }
    float temperature = __int_as_float(params[5 * s]);
    int topK = params[5 * s + 1];
    float topP = __int_as_float(params[5 * s + 2]);
    unsigned long long seed = ((unsigned long long) (unsigned int) params[5 * s + 4] << 32)
            | (unsigned long long) (unsigned int) params[5 * s + 3];
    int d = n - 1;
    for (int g = 0; g <= d; g++) {
        float* p = logits + (long long) (first + g) * vocab;
        if (temperature <= 0.0f) {
            int best = mtp_block_argmax(p, vocab);
            if (threadIdx.x == 0) {
                out[first + g] = best;
            }
            continue;
        }
        float max = MTP_NEG_INF;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            max = fmaxf(max, p[i]);
        }
        max = mtp_block_max(max);
        float inv = 1.0f / temperature;
        float sum = 0.0f;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            float e = expf((p[i] - max) * inv);
            p[i] = e;
            sum += e;
        }
        sum = mtp_block_sum(sum);
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            p[i] /= sum;
        }
        __syncthreads();
        bool truncated = false;
        if (topK > 0 && topK < vocab) {
            unsigned int t = mtp_threshold(p, vocab, (float) topK, false);
            int above = (int) mtp_at_least(p, vocab, t + 1u, false);
            mtp_keep_prefix(p, vocab, t, topK - above, scan);
            truncated = true;
        }
        if (topP < 1.0f && mtp_at_least(p, vocab, 0u, true) >= topP) {
            unsigned int t = mtp_threshold(p, vocab, topP, true);
            float above = mtp_at_least(p, vocab, t + 1u, true);
            float v = __uint_as_float(t);
            int ties = v > 0.0f ? (int) ceilf((topP - above) / v) : 0;
            mtp_keep_prefix(p, vocab, t, ties < 1 ? 1 : ties, scan);
            truncated = true;
        }
        if (truncated) {
            float kept = 0.0f;
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                kept += p[i];
            }
            kept = mtp_block_sum(kept);
            for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
                p[i] /= kept;
            }
            __syncthreads();
        }
        int position = positions[logitRows[first + g]];
        if (g == d) {
            int t = mtp_draw(p, vocab, mtp_uniform(seed, position, 1), sums);
            if (threadIdx.x == 0) {
                out[first + g] = t;
            }
            return;
        }
        int draft = tokens[logitRows[first + g + 1]];
        float pd = draft >= 0 && draft < vocab ? p[draft] : 0.0f;
        if (mtp_uniform(seed, position, 0) < pd) {
            if (threadIdx.x == 0) {
                out[first + g] = draft;
            }
            continue;
        }
        // rejected: a draw from the residual max(0, p - onehot(draft)) = p without the draft, renormalised
        __syncthreads();
        if (threadIdx.x == 0) {
            draftMass = pd;
            if (draft >= 0 && draft < vocab) {
                p[draft] = 0.0f;
            }
        }
        __syncthreads();
        int t = mtp_draw(p, vocab, mtp_uniform(seed, position, 1) * (1.0f - draftMass), sums);
        if (threadIdx.x == 0) {
            out[first + g] = t;
        }
        return;
    }
}
