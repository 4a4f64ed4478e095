// Greedy pick per row: out[r] = the index of the largest of the row's n values, ties toward the lowest index (as
// Sampler.argmax does, so greedy ids match the CPU path exactly when logits match).
// Launch: grid = rows, block = a multiple of 32 up to 1024.
__device__ __forceinline__ void mtp_better(float& v, int& idx, float ov, int oi) {
    if (ov > v || (ov == v && oi < idx)) {
        v = ov;
        idx = oi;
    }
}

extern "C" __global__ void argmax_rows(const float* __restrict__ x, int rows, int n, int* __restrict__ out) {
    __shared__ float bestV[32];
    __shared__ int bestI[32];
    int r = blockIdx.x;
    if (r >= rows) {
        return;
    }
    const float* row = x + (long long) r * n;
    float v = __int_as_float(0xff800000);
    int idx = 0x7fffffff;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        mtp_better(v, idx, row[i], i);
    }
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, v, o);
        int oi = __shfl_xor_sync(0xffffffffu, idx, o);
        mtp_better(v, idx, ov, oi);
    }
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    if (lane == 0) {
        bestV[warp] = v;
        bestI[warp] = idx;
    }
    __syncthreads();
    if (warp == 0) {
        int warps = (blockDim.x + 31) >> 5;
        v = lane < warps ? bestV[lane] : __int_as_float(0xff800000);
        idx = lane < warps ? bestI[lane] : 0x7fffffff;
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, v, o);
            int oi = __shfl_xor_sync(0xffffffffu, idx, o);
            mtp_better(v, idx, ov, oi);
        }
        if (lane == 0) {
            // a row of NaNs or -inf only leaves idx unset: fall back to 0 like a first-wins scan would
            out[r] = idx == 0x7fffffff ? 0 : idx;
        }
    }
}
