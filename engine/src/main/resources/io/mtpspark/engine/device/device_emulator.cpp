// A persistent CPU emulator of one CUDA device, driven over stdin/stdout by io.mtpspark.engine.device.EmulatedDevice.
// It holds real buffers at real (emulator-process) addresses and runs the project's own .cu kernels compiled as C++
// behind a small CUDA shim. It exists to catch, without a GPU, the bugs that hide on one:
//  - block threads are fibers (a hand-written x86-64 context switch, ucontext elsewhere): __syncthreads and warp
//    shuffles yield to a per-block scheduler, which reports a barrier not reached by every thread or a deadlock;
//  - every pointer argument of a launch, copy, memset or GEMM must lie inside a live allocation (with its extent);
//  - fresh allocations are poisoned with 0xFF bytes (NaN as F32 and as BF16), so reading memory nobody wrote shows;
//  - 64 canary bytes follow each allocation and are checked at every sync (an out-of-bounds write is reported);
//  - errors are sticky, as a CUDA context's are: the first one is reported by the next sync and every later one;
//  - gemm follows cublasGemmEx exactly: column-major, op() by trans, cuBLAS's argument checks (a bad leading
//    dimension is CUBLAS_STATUS_INVALID_VALUE), BF16 read as bits << 16, F32 accumulation, C rounded to its type
//    (nearest even), beta == 0 never reads C;
//  - graph capture records launches, GEMMs and memsets with their argument bytes copied at capture time and replays
//    them, so a per-step scalar baked into a captured launch goes stale exactly as on a GPU.
// Stream semantics: commands execute in order; only calls that return something to the host wait for a reply.
//
// Protocol (little-endian): each command is an int32 opcode followed by its fields (see the cases of main()).
#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <math.h>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <unistd.h>
#include <utility>
#include <vector>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif

// ---------------------------------------------------------------------------------------------- the CUDA shim
struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x = 1, y = 1, z = 1; };
static uint3 threadIdx;
static uint3 blockIdx;
static dim3 blockDim;
static dim3 gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static

static inline unsigned int __float_as_uint(float f) { unsigned int u; std::memcpy(&u, &f, 4); return u; }
static inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
static inline float __uint_as_float(unsigned int i) { float f; std::memcpy(&f, &i, 4); return f; }

// ---------------------------------------------------------------------------------------------- fibers
enum FiberState { RUNNABLE, AT_BLOCK_BARRIER, AT_WARP_BARRIER, DONE };
struct Fiber {
    void* sp;
#if !defined(__x86_64__)
    ucontext_t ctx;
#endif
    FiberState state;
};
static const size_t STACK_BYTES = 64 * 1024;
static std::vector<Fiber> g_fibers;
static std::vector<std::unique_ptr<char[]>> g_stacks;
static void* g_schedulerSp;
#if !defined(__x86_64__)
static ucontext_t g_schedulerCtx;
#endif
static unsigned g_current;
static std::function<void()> g_body;
static uint64_t g_slots[32][32];
static std::string g_kernelName = "(none)";

#if defined(__x86_64__)
// mtp_switch(from, to): saves the callee-saved registers on the current stack, stores its stack pointer in *from,
// and resumes the stack `to` (prepared by fiber_stack or saved by an earlier switch).
extern "C" void mtp_switch(void** from, void* to);
asm(R"(
.text
.globl mtp_switch
.type mtp_switch,@function
mtp_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
.size mtp_switch,.-mtp_switch
.section .note.GNU-stack,"",@progbits
.text
)");
#endif

static void fiber_main() {
    g_body();
    g_fibers[g_current].state = DONE;
#if defined(__x86_64__)
    mtp_switch(&g_fibers[g_current].sp, g_schedulerSp);
#else
    swapcontext(&g_fibers[g_current].ctx, &g_schedulerCtx);
#endif
    __builtin_unreachable();
}

static void fiber_yield(FiberState st) {
    Fiber& f = g_fibers[g_current];
    f.state = st;
#if defined(__x86_64__)
    mtp_switch(&f.sp, g_schedulerSp);
#else
    swapcontext(&f.ctx, &g_schedulerCtx);
#endif
}

static void fiber_prepare(unsigned t) {
    char* top = g_stacks[t].get() + STACK_BYTES;
#if defined(__x86_64__)
    uintptr_t aligned = reinterpret_cast<uintptr_t>(top) & ~uintptr_t(15);
    void** sp = reinterpret_cast<void**>(aligned);
    *--sp = nullptr;                                  // fiber_main's (never used) return address
    *--sp = reinterpret_cast<void*>(&fiber_main);     // where mtp_switch's ret lands
    for (int r = 0; r < 6; r++) *--sp = nullptr;      // rbp rbx r12 r13 r14 r15
    g_fibers[t].sp = sp;
#else
    getcontext(&g_fibers[t].ctx);
    g_fibers[t].ctx.uc_stack.ss_sp = g_stacks[t].get();
    g_fibers[t].ctx.uc_stack.ss_size = STACK_BYTES;
    g_fibers[t].ctx.uc_link = nullptr;
    makecontext(&g_fibers[t].ctx, fiber_main, 0);
#endif
    g_fibers[t].state = RUNNABLE;
}

static std::string g_error; // the sticky error of the context; empty while healthy
static void fail(const std::string& msg) {
    if (g_error.empty()) g_error = msg;
}

// Runs one block of blockDim.x fibers to completion; false (with the sticky error set) on a barrier misuse.
static bool run_block() {
    unsigned threads = blockDim.x;
    while (g_stacks.size() < threads) g_stacks.emplace_back(new char[STACK_BYTES]);
    if (g_fibers.size() < threads) g_fibers.resize(threads);
    for (unsigned t = 0; t < threads; t++) fiber_prepare(t);
    for (;;) {
        for (unsigned t = 0; t < threads; t++) {
            if (g_fibers[t].state != RUNNABLE) continue;
            g_current = t;
            threadIdx = {t, 0, 0};
#if defined(__x86_64__)
            mtp_switch(&g_schedulerSp, g_fibers[t].sp);
#else
            swapcontext(&g_schedulerCtx, &g_fibers[t].ctx);
#endif
        }
        bool released = false;
        for (unsigned w = 0; w * 32 < threads; w++) {
            unsigned lo = w * 32, hi = std::min(threads, lo + 32);
            unsigned waiting = 0, done = 0;
            for (unsigned t = lo; t < hi; t++) {
                waiting += g_fibers[t].state == AT_WARP_BARRIER;
                done += g_fibers[t].state == DONE;
            }
            if (waiting > 0 && waiting + done == hi - lo) {
                if (done > 0) {
                    fail("kernel " + g_kernelName + ": warp shuffle in warp " + std::to_string(w) + " while "
                         + std::to_string(done) + " of its lanes had exited");
                    return false;
                }
                for (unsigned t = lo; t < hi; t++) g_fibers[t].state = RUNNABLE;
                released = true;
            }
        }
        if (released) continue;
        unsigned atBarrier = 0, done = 0;
        for (unsigned t = 0; t < threads; t++) {
            atBarrier += g_fibers[t].state == AT_BLOCK_BARRIER;
            done += g_fibers[t].state == DONE;
        }
        if (done == threads) return true;
        if (atBarrier + done == threads) {
            if (done > 0) {
                fail("kernel " + g_kernelName + ": __syncthreads reached by " + std::to_string(atBarrier) + " of "
                     + std::to_string(threads) + " threads (the others had exited)");
                return false;
            }
            for (unsigned t = 0; t < threads; t++) g_fibers[t].state = RUNNABLE;
            continue;
        }
        fail("kernel " + g_kernelName + ": deadlock (threads wait at __syncthreads and at a warp shuffle at once)");
        return false;
    }
}

static inline void __syncthreads() { fiber_yield(AT_BLOCK_BARRIER); }

template <class T> static T __shfl_xor_sync(unsigned, T v, int laneMask) {
    static_assert(sizeof(T) <= 8, "shuffle of more than 8 bytes");
    unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    std::memcpy(&g_slots[warp][lane], &v, sizeof(T));
    fiber_yield(AT_WARP_BARRIER);
    unsigned src = lane ^ (unsigned) laneMask;
    unsigned lanes = std::min(32u, blockDim.x - warp * 32);
    T r = v;
    if (src < lanes) std::memcpy(&r, &g_slots[warp][src], sizeof(T));
    fiber_yield(AT_WARP_BARRIER); // nobody overwrites a slot before every lane has read
    return r;
}

// ---------------------------------------------------------------------------------------------- the kernels
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
#include "embed_tokens.cu"
#include "rmsnorm_to.cu"
#include "qkv_rope.cu"
#include "block_attention.cu"
#include "swiglu_to.cu"
#include "gather16.cu"
#include "lora_rows.cu"
#include "mtp_verify.cu"
#include "mtp_compact.cu"
#include "sampler_input.cu"
#include "sampler_norm.cu"
#include "spec_sample.cu"
#include "mtp_next_block.cu"

// ---------------------------------------------------------------------------------------------- memory
static const size_t CANARY = 64;
static const unsigned char CANARY_BYTE = 0xA5;
struct Alloc { size_t size; };
static std::map<uintptr_t, Alloc> g_allocs;
static size_t g_used = 0;
static size_t g_total = size_t(8) << 30;

static const Alloc* find_alloc(uintptr_t p, uintptr_t* base) {
    auto it = g_allocs.upper_bound(p);
    if (it == g_allocs.begin()) return nullptr;
    --it;
    if (p >= it->first && p < it->first + it->second.size) {
        *base = it->first;
        return &it->second;
    }
    return nullptr;
}

static std::string hex(uintptr_t p) {
    char b[32];
    std::snprintf(b, sizeof b, "0x%llx", (unsigned long long) p);
    return b;
}

// True when [p, p + bytes) lies inside one live allocation; else sets the sticky error naming `what`.
static bool check_range(uintptr_t p, size_t bytes, const std::string& what) {
    uintptr_t base;
    const Alloc* a = find_alloc(p, &base);
    if (a == nullptr) {
        fail(what + ": pointer " + hex(p) + " is not inside any live allocation");
        return false;
    }
    if (bytes > a->size - (p - base)) {
        fail(what + ": " + std::to_string(bytes) + " bytes at offset " + std::to_string(p - base)
             + " run past the end of an allocation of " + std::to_string(a->size) + " bytes");
        return false;
    }
    return true;
}

static void check_canaries() {
    for (auto& [base, a] : g_allocs) {
        const unsigned char* c = reinterpret_cast<const unsigned char*>(base) + a.size;
        for (size_t i = 0; i < CANARY; i++) {
            if (c[i] != CANARY_BYTE) {
                fail("out-of-bounds write: the " + std::to_string(CANARY) + " guard bytes after the allocation at "
                     + hex(base) + " (" + std::to_string(a.size) + " bytes) were overwritten at offset +"
                     + std::to_string(i) + (g_kernelName != "(none)" ? " (last kernel: " + g_kernelName + ")" : ""));
                return;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------- launches
struct Arg { int32_t type; int64_t bits; };

template <class T> static T convert(const Arg& a, size_t index, bool* ok) {
    std::string where = "kernel " + g_kernelName + " argument " + std::to_string(index);
    if constexpr (std::is_pointer_v<T>) {
        if (a.type != 0) { fail(where + " must be a pointer"); *ok = false; return nullptr; }
        uintptr_t base;
        if (find_alloc((uintptr_t) a.bits, &base) == nullptr) {
            fail(where + ": pointer " + hex((uintptr_t) a.bits) + " is not inside any live allocation");
            *ok = false;
            return nullptr;
        }
        return reinterpret_cast<T>((uintptr_t) a.bits);
    } else if constexpr (std::is_same_v<T, int>) {
        if (a.type != 1) { fail(where + " must be an int"); *ok = false; }
        int32_t v = (int32_t) a.bits;
        return v;
    } else if constexpr (std::is_same_v<T, float>) {
        if (a.type != 2) { fail(where + " must be a float"); *ok = false; }
        uint32_t u = (uint32_t) a.bits;
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    } else if constexpr (std::is_same_v<T, long long>) {
        if (a.type != 3) { fail(where + " must be a long long"); *ok = false; }
        return (long long) a.bits;
    } else {
        static_assert(!sizeof(T), "unsupported kernel parameter type");
    }
}

struct Launch { int kernel; dim3 grid; dim3 block; std::vector<Arg> args; };
using KernelRunner = std::function<void(const Launch&)>;

template <class... A> static KernelRunner runner(void (*kernel)(A...)) {
    return [kernel](const Launch& l) {
        if (l.args.size() != sizeof...(A)) {
            fail("kernel " + g_kernelName + " takes " + std::to_string(sizeof...(A)) + " arguments, got "
                 + std::to_string(l.args.size()));
            return;
        }
        bool ok = true;
        auto params = [&]<size_t... I>(std::index_sequence<I...>) {
            return std::tuple<A...>(convert<A>(l.args[I], I, &ok)...);
        }(std::index_sequence_for<A...>{});
        if (!ok) return;
        gridDim = l.grid;
        blockDim = l.block;
        g_body = [&] { std::apply(kernel, params); };
        for (unsigned bz = 0; bz < l.grid.z; bz++)
            for (unsigned by = 0; by < l.grid.y; by++)
                for (unsigned bx = 0; bx < l.grid.x; bx++) {
                    blockIdx = {bx, by, bz};
                    if (!run_block()) return;
                }
    };
}

struct KernelEntry { const char* name; KernelRunner run; };
static std::vector<KernelEntry> g_kernels = {
    {"embed_rows", runner(embed_rows)}, {"gather_rows", runner(gather_rows)},
    {"rmsnorm_rows", runner(rmsnorm_rows)}, {"rope_rows", runner(rope_rows)},
    {"attention_block", runner(attention_block)}, {"silu_mul", runner(silu_mul)},
    {"exp_shift_sum", runner(exp_shift_sum)}, {"add_into", runner(add_into)},
    {"lora_add_gated", runner(lora_add_gated)}, {"softmax_rows", runner(softmax_rows)},
    {"argmax_rows", runner(argmax_rows)}, {"mass_at_least", runner(mass_at_least)},
    {"kv_compact", runner(kv_compact)}, {"to_bf16", runner(to_bf16)},
    {"embed_tokens", runner(embed_tokens)}, {"rmsnorm_to", runner(rmsnorm_to)},
    {"qkv_rope", runner(qkv_rope)}, {"block_attention", runner(block_attention)},
    {"swiglu_to", runner(swiglu_to)}, {"gather16", runner(gather16)}, {"lora_rows", runner(lora_rows)},
    {"mtp_verify", runner(mtp_verify)}, {"kv_compact_accepted", runner(kv_compact_accepted)},
    {"sampler_input", runner(sampler_input)}, {"sampler_norm", runner(sampler_norm)},
    {"spec_sample", runner(spec_sample)}, {"mtp_next_block", runner(mtp_next_block)},
};

static void run_launch(const Launch& l) {
    if (!g_error.empty()) return; // a failed context runs nothing more
    g_kernelName = g_kernels[l.kernel].name;
    if (l.block.x == 0 || l.block.x > 1024 || l.block.y != 1 || l.block.z != 1) {
        fail("kernel " + g_kernelName + ": block of " + std::to_string(l.block.x) + " threads (1..1024, 1-D)");
        return;
    }
    if (l.grid.x == 0 || l.grid.y == 0 || l.grid.z == 0 || l.grid.y > 65535 || l.grid.z > 65535) {
        fail("kernel " + g_kernelName + ": invalid grid " + std::to_string(l.grid.x) + "x" + std::to_string(l.grid.y)
             + "x" + std::to_string(l.grid.z));
        return;
    }
    g_kernels[l.kernel].run(l);
}

// ---------------------------------------------------------------------------------------------- GEMM
enum { CUDA_R_32F = 0, CUDA_R_16BF = 14 };
enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };
enum { CUBLAS_COMPUTE_32F = 68 };
enum { ST_SUCCESS = 0, ST_INVALID_VALUE = 7, ST_NOT_SUPPORTED = 15 };

struct Gemm {
    int32_t transa, transb, m, n, k;
    float alpha;
    int64_t a; int32_t atype, lda;
    int64_t b; int32_t btype, ldb;
    float beta;
    int64_t c; int32_t ctype, ldc;
    int32_t compute;
};

static size_t type_bytes(int t) { return t == CUDA_R_16BF ? 2 : 4; }
static float load_elem(const void* p, size_t i, int t) {
    if (t == CUDA_R_16BF) {
        uint16_t b = static_cast<const uint16_t*>(p)[i];
        return __uint_as_float((uint32_t) b << 16);
    }
    return static_cast<const float*>(p)[i];
}
static uint16_t to_bf16_bits(float f) {
    uint32_t bits = __float_as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t) ((bits >> 16) | 0x40u);
    return (uint16_t) ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

// cublasGemmEx's host-side argument checks; ST_SUCCESS or the status it returns, with the reason in *why.
static int gemm_check(const Gemm& g, std::string* why) {
    auto bad = [&](const std::string& m) { *why = m; return ST_INVALID_VALUE; };
    if (g.transa != CUBLAS_OP_N && g.transa != CUBLAS_OP_T) return bad("transa " + std::to_string(g.transa));
    if (g.transb != CUBLAS_OP_N && g.transb != CUBLAS_OP_T) return bad("transb " + std::to_string(g.transb));
    if (g.m < 0 || g.n < 0 || g.k < 0) return bad("negative m, n or k");
    int rowsA = g.transa == CUBLAS_OP_N ? g.m : g.k;
    int rowsB = g.transb == CUBLAS_OP_N ? g.k : g.n;
    if (g.lda < std::max(1, rowsA)) return bad("lda " + std::to_string(g.lda) + " < max(1, " + std::to_string(rowsA) + ")");
    if (g.ldb < std::max(1, rowsB)) return bad("ldb " + std::to_string(g.ldb) + " < max(1, " + std::to_string(rowsB) + ")");
    if (g.ldc < std::max(1, g.m)) return bad("ldc " + std::to_string(g.ldc) + " < max(1, " + std::to_string(g.m) + ")");
    bool bf = g.atype == CUDA_R_16BF && g.btype == CUDA_R_16BF && (g.ctype == CUDA_R_16BF || g.ctype == CUDA_R_32F);
    bool f32 = g.atype == CUDA_R_32F && g.btype == CUDA_R_32F && g.ctype == CUDA_R_32F;
    if (g.compute != CUBLAS_COMPUTE_32F || !(bf || f32)) {
        *why = "type combination A " + std::to_string(g.atype) + ", B " + std::to_string(g.btype) + ", C "
               + std::to_string(g.ctype) + ", compute " + std::to_string(g.compute);
        return ST_NOT_SUPPORTED;
    }
    return ST_SUCCESS;
}

static void run_gemm(const Gemm& g) {
    if (!g_error.empty()) return;
    g_kernelName = "cublasGemmEx";
    if (g.m == 0 || g.n == 0) return;
    int colsA = g.transa == CUBLAS_OP_N ? g.k : g.m, rowsA = g.transa == CUBLAS_OP_N ? g.m : g.k;
    int colsB = g.transb == CUBLAS_OP_N ? g.n : g.k, rowsB = g.transb == CUBLAS_OP_N ? g.k : g.n;
    auto extent = [](int rows, int cols, int ld, int t) {
        return rows == 0 || cols == 0 ? 0 : ((size_t) (cols - 1) * ld + rows) * type_bytes(t);
    };
    if (g.k > 0 && !check_range(g.a, extent(rowsA, colsA, g.lda, g.atype), "cublasGemmEx A")) return;
    if (g.k > 0 && !check_range(g.b, extent(rowsB, colsB, g.ldb, g.btype), "cublasGemmEx B")) return;
    if (!check_range(g.c, extent(g.m, g.n, g.ldc, g.ctype), "cublasGemmEx C")) return;
    const void* A = reinterpret_cast<const void*>(g.a);
    const void* B = reinterpret_cast<const void*>(g.b);
    void* C = reinterpret_cast<void*>(g.c);
    auto store = [&](int i, int j, float acc) {
        size_t ci = (size_t) i + (size_t) j * g.ldc;
        float v = g.alpha * acc;
        if (g.beta != 0.0f) v += g.beta * load_elem(C, ci, g.ctype); // beta == 0: C is never read
        if (g.ctype == CUDA_R_16BF) static_cast<uint16_t*>(C)[ci] = to_bf16_bits(v);
        else static_cast<float*>(C)[ci] = v;
    };
    if (g.transa == CUBLAS_OP_T && g.transb == CUBLAS_OP_N && g.atype == g.btype) {
        // the forward's shape (C = Aᵀ·B, both read along k): four outputs at a time for instruction-level
        // parallelism, each still one sequential F32 sum over k, so results equal the generic loop's
        bool bf = g.atype == CUDA_R_16BF;
        std::vector<float> col(g.k);
        for (int j = 0; j < g.n; j++) {
            for (int p = 0; p < g.k; p++) col[p] = load_elem(B, (size_t) p + (size_t) j * g.ldb, g.btype);
            int i = 0;
            for (; i + 4 <= g.m; i += 4) {
                float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                size_t r0 = (size_t) i * g.lda, r1 = r0 + g.lda, r2 = r1 + g.lda, r3 = r2 + g.lda;
                if (bf) {
                    const uint16_t* a = static_cast<const uint16_t*>(A);
                    for (int p = 0; p < g.k; p++) {
                        float b = col[p];
                        a0 += __uint_as_float((uint32_t) a[r0 + p] << 16) * b;
                        a1 += __uint_as_float((uint32_t) a[r1 + p] << 16) * b;
                        a2 += __uint_as_float((uint32_t) a[r2 + p] << 16) * b;
                        a3 += __uint_as_float((uint32_t) a[r3 + p] << 16) * b;
                    }
                } else {
                    const float* a = static_cast<const float*>(A);
                    for (int p = 0; p < g.k; p++) {
                        float b = col[p];
                        a0 += a[r0 + p] * b;
                        a1 += a[r1 + p] * b;
                        a2 += a[r2 + p] * b;
                        a3 += a[r3 + p] * b;
                    }
                }
                store(i, j, a0);
                store(i + 1, j, a1);
                store(i + 2, j, a2);
                store(i + 3, j, a3);
            }
            for (; i < g.m; i++) {
                float acc = 0.0f;
                for (int p = 0; p < g.k; p++) acc += load_elem(A, (size_t) p + (size_t) i * g.lda, g.atype) * col[p];
                store(i, j, acc);
            }
        }
        return;
    }
    for (int j = 0; j < g.n; j++) {
        for (int i = 0; i < g.m; i++) {
            float acc = 0.0f;
            for (int p = 0; p < g.k; p++) {
                size_t ai = g.transa == CUBLAS_OP_N ? (size_t) i + (size_t) p * g.lda : (size_t) p + (size_t) i * g.lda;
                size_t bi = g.transb == CUBLAS_OP_N ? (size_t) p + (size_t) j * g.ldb : (size_t) j + (size_t) p * g.ldb;
                acc += load_elem(A, ai, g.atype) * load_elem(B, bi, g.btype);
            }
            store(i, j, acc);
        }
    }
}

// ---------------------------------------------------------------------------------------------- protocol
enum Op {
    OP_MALLOC = 1, OP_FREE = 2, OP_MEMSET = 3, OP_H2D = 4, OP_D2H = 5, OP_LAUNCH = 6, OP_GEMM = 7, OP_SYNC = 8,
    OP_KERNEL = 9, OP_BEGIN_CAPTURE = 10, OP_END_CAPTURE = 11, OP_LAUNCH_GRAPH = 12, OP_DESTROY_GRAPH = 13,
    OP_MEMINFO = 14, OP_RESET = 15, OP_D2D = 16, OP_EXIT = 17
};

static FILE* g_in;
static FILE* g_out;

[[noreturn]] static void die(const std::string& msg) {
    std::fprintf(stderr, "device_emulator: %s\n", msg.c_str());
    std::exit(2);
}

template <class T> static T rd() {
    T v;
    if (std::fread(&v, sizeof v, 1, g_in) != 1) std::exit(0); // the JVM closed the pipe: exit quietly
    return v;
}
template <class T> static void wr(T v) { std::fwrite(&v, sizeof v, 1, g_out); }
static void wr_str(const std::string& s) {
    wr<int32_t>((int32_t) s.size());
    std::fwrite(s.data(), 1, s.size(), g_out);
}

struct Memset { int64_t dst; int32_t value; int64_t bytes; };
static void run_memset(const Memset& m) {
    if (!g_error.empty()) return;
    if (check_range(m.dst, m.bytes, "memset")) std::memset(reinterpret_cast<void*>(m.dst), m.value, m.bytes);
}

struct Graph { std::vector<std::function<void()>> commands; };
static std::map<int, Graph> g_graphs;
static int g_nextGraph = 1;
static bool g_capturing = false;
static Graph g_capture;
static std::string g_captureError;

static void enqueue(std::function<void()> cmd) {
    if (g_capturing) g_capture.commands.push_back(std::move(cmd));
    else cmd();
}

static void not_in_capture(const char* what) {
    if (g_capturing && g_captureError.empty()) {
        g_captureError = std::string(what) + " during stream capture (cudaErrorStreamCaptureUnsupported)";
    }
}

static void reset_context() {
    for (auto& [base, a] : g_allocs) std::free(reinterpret_cast<void*>(base));
    g_allocs.clear();
    g_used = 0;
    g_graphs.clear();
    g_capturing = false;
    g_capture.commands.clear();
    g_captureError.clear();
    g_error.clear();
    g_kernelName = "(none)";
}

static void on_segv(int) {
    const char* a = "device_emulator: segmentation fault in ";
    (void) !write(2, a, std::strlen(a));
    (void) !write(2, g_kernelName.c_str(), g_kernelName.size());
    (void) !write(2, " (an access far outside every allocation)\n", 43);
    _exit(3);
}

int main(int argc, char** argv) {
    if (argc > 1) g_total = std::strtoull(argv[1], nullptr, 10);
    std::signal(SIGSEGV, on_segv);
    std::signal(SIGBUS, on_segv);
    g_in = stdin;
    g_out = stdout;
    static char inBuf[1 << 16], outBuf[1 << 16];
    std::setvbuf(g_in, inBuf, _IOFBF, sizeof inBuf);
    std::setvbuf(g_out, outBuf, _IOFBF, sizeof outBuf);
    std::vector<unsigned char> scratch;
    for (;;) {
        int32_t op = rd<int32_t>();
        switch (op) {
            case OP_MALLOC: {
                int64_t bytes = rd<int64_t>();
                not_in_capture("cudaMalloc");
                void* p = nullptr;
                if (bytes >= 0 && (size_t) bytes <= g_total - g_used) {
                    size_t rounded = ((size_t) bytes + CANARY + 255) / 256 * 256;
                    p = std::aligned_alloc(256, rounded);
                }
                if (p != nullptr) {
                    std::memset(p, 0xFF, bytes);                                    // poison: NaN as F32 and BF16
                    std::memset(static_cast<char*>(p) + bytes, CANARY_BYTE, CANARY);
                    g_allocs[(uintptr_t) p] = {(size_t) bytes};
                    g_used += bytes;
                }
                wr<int64_t>((int64_t) (uintptr_t) p);
                std::fflush(g_out);
                break;
            }
            case OP_FREE: {
                int64_t p = rd<int64_t>();
                not_in_capture("cudaFree");
                auto it = g_allocs.find((uintptr_t) p);
                if (it == g_allocs.end()) {
                    fail("cudaFree of " + hex((uintptr_t) p) + ", which is not the start of a live allocation");
                } else {
                    check_canaries(); // a free is a sync point in CUDA
                    g_used -= it->second.size;
                    std::free(reinterpret_cast<void*>(it->first));
                    g_allocs.erase(it);
                }
                break;
            }
            case OP_MEMSET: {
                Memset m{rd<int64_t>(), rd<int32_t>(), rd<int64_t>()};
                enqueue([m] { run_memset(m); });
                break;
            }
            case OP_H2D: {
                int64_t dst = rd<int64_t>();
                int64_t bytes = rd<int64_t>();
                scratch.resize(bytes);
                if (bytes > 0 && std::fread(scratch.data(), 1, bytes, g_in) != (size_t) bytes) std::exit(0);
                not_in_capture("host-to-device copy");
                if (g_error.empty() && check_range(dst, bytes, "host-to-device copy")) {
                    std::memcpy(reinterpret_cast<void*>(dst), scratch.data(), bytes);
                }
                break;
            }
            case OP_D2D: {
                int64_t dst = rd<int64_t>(), src = rd<int64_t>(), bytes = rd<int64_t>();
                enqueue([dst, src, bytes] {
                    if (g_error.empty() && check_range(src, bytes, "device-to-device copy source")
                        && check_range(dst, bytes, "device-to-device copy destination")) {
                        std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<void*>(src), bytes);
                    }
                });
                break;
            }
            case OP_D2H: {
                int64_t src = rd<int64_t>();
                int64_t bytes = rd<int64_t>();
                not_in_capture("device-to-host copy");
                if (g_error.empty()) check_range(src, bytes, "device-to-host copy");
                if (g_error.empty()) check_canaries();
                wr<int32_t>(g_error.empty() ? 0 : 1);
                if (g_error.empty()) {
                    std::fwrite(reinterpret_cast<void*>(src), 1, bytes, g_out);
                } else {
                    wr_str(g_error);
                }
                std::fflush(g_out);
                break;
            }
            case OP_KERNEL: {
                int32_t len = rd<int32_t>();
                std::string name(len, '\0');
                if (len > 0 && std::fread(name.data(), 1, len, g_in) != (size_t) len) std::exit(0);
                int32_t id = -1;
                for (size_t i = 0; i < g_kernels.size(); i++) {
                    if (name == g_kernels[i].name) id = (int32_t) i;
                }
                wr<int32_t>(id);
                std::fflush(g_out);
                break;
            }
            case OP_LAUNCH: {
                Launch l;
                l.kernel = rd<int32_t>();
                l.grid.x = rd<uint32_t>();
                l.grid.y = rd<uint32_t>();
                l.grid.z = rd<uint32_t>();
                l.block.x = rd<uint32_t>();
                int32_t shared = rd<int32_t>();
                int32_t nargs = rd<int32_t>();
                if (nargs < 0 || nargs > 64) die("bad argument count");
                l.args.resize(nargs);
                for (auto& a : l.args) {
                    a.type = rd<int32_t>();
                    a.bits = rd<int64_t>();
                }
                if (l.kernel < 0 || l.kernel >= (int) g_kernels.size()) die("bad kernel id");
                if (shared != 0) fail(std::string("kernel ") + g_kernels[l.kernel].name + ": dynamic shared memory is not emulated");
                enqueue([l = std::move(l)] { run_launch(l); }); // the argument bytes are copied here
                break;
            }
            case OP_GEMM: {
                Gemm g;
                g.transa = rd<int32_t>(); g.transb = rd<int32_t>();
                g.m = rd<int32_t>(); g.n = rd<int32_t>(); g.k = rd<int32_t>();
                g.alpha = rd<float>();
                g.a = rd<int64_t>(); g.atype = rd<int32_t>(); g.lda = rd<int32_t>();
                g.b = rd<int64_t>(); g.btype = rd<int32_t>(); g.ldb = rd<int32_t>();
                g.beta = rd<float>();
                g.c = rd<int64_t>(); g.ctype = rd<int32_t>(); g.ldc = rd<int32_t>();
                g.compute = rd<int32_t>();
                std::string why;
                int status = gemm_check(g, &why);
                if (status == ST_SUCCESS) enqueue([g] { run_gemm(g); });
                wr<int32_t>(status);
                wr_str(why);
                std::fflush(g_out);
                break;
            }
            case OP_SYNC: {
                if (g_capturing) {
                    not_in_capture("cudaStreamSynchronize");
                } else if (g_error.empty()) {
                    check_canaries();
                }
                wr<int32_t>(g_error.empty() ? 0 : 1);
                wr_str(g_error);
                std::fflush(g_out);
                break;
            }
            case OP_BEGIN_CAPTURE: {
                if (g_capturing) fail("cudaStreamBeginCapture while already capturing");
                g_capturing = true;
                g_capture.commands.clear();
                g_captureError.clear();
                break;
            }
            case OP_END_CAPTURE: {
                int32_t id = -1;
                std::string why = g_captureError;
                if (!g_capturing) why = "cudaStreamEndCapture without a capture";
                if (why.empty()) {
                    id = g_nextGraph++;
                    g_graphs[id] = std::move(g_capture);
                }
                g_capture = Graph();
                g_capturing = false;
                wr<int32_t>(id);
                wr_str(why);
                std::fflush(g_out);
                break;
            }
            case OP_LAUNCH_GRAPH: {
                int32_t id = rd<int32_t>();
                auto it = g_graphs.find(id);
                if (it == g_graphs.end()) fail("cudaGraphLaunch of unknown graph " + std::to_string(id));
                else for (auto& c : it->second.commands) c();
                break;
            }
            case OP_DESTROY_GRAPH: {
                g_graphs.erase(rd<int32_t>());
                break;
            }
            case OP_MEMINFO: {
                wr<int64_t>((int64_t) (g_total - g_used));
                wr<int64_t>((int64_t) g_total);
                std::fflush(g_out);
                break;
            }
            case OP_RESET: {
                reset_context();
                break;
            }
            case OP_EXIT:
                return 0;
            default:
                die("unknown opcode " + std::to_string(op));
        }
    }
}
