// Shared device helpers, passed to NVRTC as a header (no system headers exist there, so nothing below may include
// one; -INFINITY is spelled as a bit pattern for the same reason).
// Block reductions assume blockDim.x is a multiple of 32 and at most 1024. Every thread of the block must call them
// (they synchronise), and every thread gets the result.
#pragma once

#define MTP_NEG_INF __int_as_float(0xff800000)

__device__ __forceinline__ float mtp_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, o);
    }
    return v;
}

__device__ __forceinline__ float mtp_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    }
    return v;
}

__device__ float mtp_block_sum(float v) {
    __shared__ float partial[32];
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    v = mtp_warp_sum(v);
    __syncthreads(); // a previous call may still be reading partial[]
    if (lane == 0) {
        partial[warp] = v;
    }
    __syncthreads();
    int warps = (blockDim.x + 31) >> 5;
    v = lane < warps ? partial[lane] : 0.0f;
    return mtp_warp_sum(v);
}

__device__ float mtp_block_max(float v) {
    __shared__ float partial[32];
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    v = mtp_warp_max(v);
    __syncthreads();
    if (lane == 0) {
        partial[warp] = v;
    }
    __syncthreads();
    int warps = (blockDim.x + 31) >> 5;
    v = lane < warps ? partial[lane] : MTP_NEG_INF;
    return mtp_warp_max(v);
}
