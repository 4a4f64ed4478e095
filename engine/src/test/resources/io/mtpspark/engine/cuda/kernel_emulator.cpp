// A CPU emulator for this project's CUDA kernels, for machines without a GPU: the .cu sources are compiled as C++
// behind a small shim (threadIdx/blockIdx per std::thread, __syncthreads as a block barrier, __shfl_xor_sync through
// per-warp slots and barriers), and every block runs as blockDim.x real threads, so races and missing barriers in
// the kernels' cross-thread logic can show up. It checks kernel semantics, not CUDA's memory model or NVRTC.
//
// Protocol (little-endian, file in, file out): name, grid x/y, block x, buffers (kind 0 float / 1 int / 2 byte,
// element count, raw bytes), arguments (type 0 buffer index / 1 int / 2 float / 3 long long). The output file holds
// every buffer's raw bytes after the launch. Argument types are checked against the kernel's C++ signature.
#include <barrier>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <math.h>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x = 1, y = 1, z = 1; };
thread_local uint3 threadIdx;
thread_local uint3 blockIdx;
static dim3 blockDim;
static dim3 gridDim;

static std::unique_ptr<std::barrier<>> g_block;
static std::vector<std::unique_ptr<std::barrier<>>> g_warps;
static uint64_t g_slots[32][32];

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static

static inline void __syncthreads() { g_block->arrive_and_wait(); }

template <class T> static T __shfl_xor_sync(unsigned, T v, int laneMask) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    std::memcpy(&g_slots[warp][lane], &v, sizeof(T));
    g_warps[warp]->arrive_and_wait();
    T r;
    std::memcpy(&r, &g_slots[warp][lane ^ laneMask], sizeof(T));
    g_warps[warp]->arrive_and_wait(); // nobody overwrites a slot before every lane has read
    return r;
}

static inline unsigned int __float_as_uint(float f) {
    unsigned int u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

static inline float __uint_as_float(unsigned int i) {
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
}

static inline float __int_as_float(int i) {
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
}

#include "embedding.cu"
#include "gather.cu"
#include "rmsnorm.cu"
#include "rope.cu"
#include "attention.cu"
#include "swiglu.cu"
#include "expshift.cu"
#include "residual.cu"
#include "lora.cu"
#include "softmax.cu"
#include "argmax.cu"
#include "topp.cu"
#include "kvcompact.cu"
#include "bf16.cu"

[[noreturn]] static void die(const std::string& msg) {
    std::fprintf(stderr, "kernel_emulator: %s\n", msg.c_str());
    std::exit(2);
}

struct Arg { int type; int32_t i; float f; int64_t l; };
static std::vector<std::vector<unsigned char>> g_buffers;

template <class T> static T convert(const Arg& a, size_t index) {
    if constexpr (std::is_pointer_v<T>) {
        if (a.type != 0) die("argument " + std::to_string(index) + " must be a buffer");
        if (a.i < 0 || a.i >= (int) g_buffers.size()) die("bad buffer index");
        return reinterpret_cast<T>(g_buffers[a.i].data());
    } else if constexpr (std::is_same_v<T, int>) {
        if (a.type != 1) die("argument " + std::to_string(index) + " must be an int");
        return a.i;
    } else if constexpr (std::is_same_v<T, float>) {
        if (a.type != 2) die("argument " + std::to_string(index) + " must be a float");
        return a.f;
    } else if constexpr (std::is_same_v<T, long long>) {
        if (a.type != 3) die("argument " + std::to_string(index) + " must be a long long");
        return a.l;
    } else {
        static_assert(!sizeof(T), "unsupported kernel parameter type");
    }
}

template <class... A> static void launch(void (*kernel)(A...), const std::vector<Arg>& args) {
    if (args.size() != sizeof...(A)) {
        die("kernel takes " + std::to_string(sizeof...(A)) + " arguments, got " + std::to_string(args.size()));
    }
    auto params = [&]<size_t... I>(std::index_sequence<I...>) {
        return std::tuple<A...>(convert<A>(args[I], I)...);
    }(std::index_sequence_for<A...>{});
    unsigned threads = blockDim.x;
    for (unsigned by = 0; by < gridDim.y; by++) {
        for (unsigned bx = 0; bx < gridDim.x; bx++) {
            g_block = std::make_unique<std::barrier<>>(threads);
            g_warps.clear();
            for (unsigned w = 0; w * 32 < threads; w++) {
                g_warps.push_back(std::make_unique<std::barrier<>>(std::min(32u, threads - w * 32)));
            }
            std::vector<std::thread> pool;
            for (unsigned t = 0; t < threads; t++) {
                pool.emplace_back([&, t, bx, by] {
                    threadIdx = {t, 0, 0};
                    blockIdx = {bx, by, 0};
                    std::apply(kernel, params);
                });
            }
            for (auto& th : pool) th.join();
        }
    }
}

template <class T> static T read(FILE* f) {
    T v;
    if (std::fread(&v, sizeof v, 1, f) != 1) die("truncated input");
    return v;
}

int main(int argc, char** argv) {
    if (argc != 3) die("usage: kernel_emulator IN OUT");
    std::map<std::string, std::function<void(const std::vector<Arg>&)>> kernels = {
        {"embed_rows", [](auto& a) { launch(embed_rows, a); }},
        {"gather_rows", [](auto& a) { launch(gather_rows, a); }},
        {"rmsnorm_rows", [](auto& a) { launch(rmsnorm_rows, a); }},
        {"rope_rows", [](auto& a) { launch(rope_rows, a); }},
        {"attention_block", [](auto& a) { launch(attention_block, a); }},
        {"silu_mul", [](auto& a) { launch(silu_mul, a); }},
        {"exp_shift_sum", [](auto& a) { launch(exp_shift_sum, a); }},
        {"add_into", [](auto& a) { launch(add_into, a); }},
        {"lora_add_gated", [](auto& a) { launch(lora_add_gated, a); }},
        {"softmax_rows", [](auto& a) { launch(softmax_rows, a); }},
        {"argmax_rows", [](auto& a) { launch(argmax_rows, a); }},
        {"mass_at_least", [](auto& a) { launch(mass_at_least, a); }},
        {"kv_compact", [](auto& a) { launch(kv_compact, a); }},
        {"to_bf16", [](auto& a) { launch(to_bf16, a); }},
    };
    FILE* in = std::fopen(argv[1], "rb");
    if (!in) die(std::string("cannot open ") + argv[1]);
    int32_t nameLen = read<int32_t>(in);
    std::string name(nameLen, '\0');
    if (std::fread(name.data(), 1, nameLen, in) != (size_t) nameLen) die("truncated name");
    gridDim.x = read<int32_t>(in);
    gridDim.y = read<int32_t>(in);
    blockDim.x = read<int32_t>(in);
    if (blockDim.x == 0 || blockDim.x > 1024) die("block size must be 1..1024");
    int32_t nBuffers = read<int32_t>(in);
    for (int b = 0; b < nBuffers; b++) {
        int32_t kind = read<int32_t>(in);
        int32_t count = read<int32_t>(in);
        size_t bytes = (size_t) count * (kind == 2 ? 1 : 4);
        g_buffers.emplace_back(bytes + 16); // slack, so a zero-length buffer still has an address
        if (bytes > 0 && std::fread(g_buffers.back().data(), 1, bytes, in) != bytes) die("truncated buffer");
        g_buffers.back().resize(bytes + 16);
    }
    int32_t nArgs = read<int32_t>(in);
    std::vector<Arg> args(nArgs);
    for (auto& a : args) {
        a.type = read<int32_t>(in);
        switch (a.type) {
            case 0: case 1: a.i = read<int32_t>(in); break;
            case 2: a.f = read<float>(in); break;
            case 3: a.l = read<int64_t>(in); break;
            default: die("bad argument type");
        }
    }
    std::fclose(in);
    auto k = kernels.find(name);
    if (k == kernels.end()) die("no kernel " + name);
    k->second(args);
    FILE* out = std::fopen(argv[2], "wb");
    if (!out) die(std::string("cannot open ") + argv[2]);
    for (auto& b : g_buffers) std::fwrite(b.data(), 1, b.size() - 16, out);
    std::fclose(out);
    return 0;
}
