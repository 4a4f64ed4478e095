// SwiGLU activation in place: h = silu(h) * g = h / (1 + exp(-h)) * g, elementwise over n values.
// Launch: any 1-D grid; threads stride over n.
extern "C" __global__ void silu_mul(float* h, const float* __restrict__ g, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float x = h[i];
        h[i] = x / (1.0f + expf(-x)) * g[i];
    }
}
