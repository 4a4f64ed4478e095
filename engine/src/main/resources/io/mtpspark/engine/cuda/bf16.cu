// F32 to BF16 bits (the upper half of each float, rounded to nearest even; NaN stays a quiet NaN): the BF16 weight
// path converts each weight once at upload, and a matmul's activations before every cublasGemmEx.
// Launch: any 1-D grid; threads stride over n.
extern "C" __global__ void to_bf16(const float* __restrict__ x, unsigned short* __restrict__ y, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        unsigned int bits = __float_as_uint(x[i]);
        if ((bits & 0x7fffffffu) > 0x7f800000u) {
            y[i] = (unsigned short) ((bits >> 16) | 0x40u);
        } else {
            y[i] = (unsigned short) ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
        }
    }
}
