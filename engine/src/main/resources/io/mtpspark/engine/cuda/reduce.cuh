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

// Element types of the device forward's buffers (weights, activations, KV cache): 0 = F32, 1 = BF16 (raw bits).
#define MTP_F32 0
#define MTP_BF16 1

__device__ __forceinline__ float mtp_bf16_to_float(unsigned short b) {
    return __uint_as_float(((unsigned int) b) << 16);
}

// Round to nearest even, NaN kept quiet: the same rounding as to_bf16 and DType.floatToBf16.
__device__ __forceinline__ unsigned short mtp_float_to_bf16(float f) {
    unsigned int bits = __float_as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) {
        return (unsigned short) ((bits >> 16) | 0x40u);
    }
    return (unsigned short) ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

__device__ __forceinline__ float mtp_load(const void* p, long long i, int type) {
    return type == MTP_BF16 ? mtp_bf16_to_float(((const unsigned short*) p)[i]) : ((const float*) p)[i];
}

__device__ __forceinline__ void mtp_store(void* p, long long i, float v, int type) {
    if (type == MTP_BF16) {
        ((unsigned short*) p)[i] = mtp_float_to_bf16(v);
    } else {
        ((float*) p)[i] = v;
    }
}
