// RoPE on adjacent pairs (2m, 2m+1) of every head, each row at its own position id (MTP blocks hold rows whose
// positions are not consecutive). cosT/sinT are the host's precomputed tables [positions][headDim/2], uploaded once,
// so llama3 frequency scaling and llama2.c's float rounding of frequencies stay in one place (RopeTable).
// v holds rows of `heads` heads at rowStride floats. Launch: grid = rows, block = any multiple of 32.
extern "C" __global__ void rope_rows(float* v, const int* __restrict__ positions, int rows, int heads, int headDim,
                                     int rowStride, const float* __restrict__ cosT, const float* __restrict__ sinT) {
    int r = blockIdx.x;
    if (r >= rows) {
        return;
    }
    int half = headDim / 2;
    long long t = (long long) positions[r] * half;
    float* row = v + (long long) r * rowStride;
    for (int p = threadIdx.x; p < heads * half; p += blockDim.x) {
        int h = p / half;
        int m = p - h * half;
        float c = cosT[t + m];
        float s = sinT[t + m];
        float* pair = row + h * headDim + 2 * m;
        float a = pair[0];
        float b = pair[1];
        pair[0] = a * c - b * s;
        pair[1] = a * s + b * c;
    }
}
