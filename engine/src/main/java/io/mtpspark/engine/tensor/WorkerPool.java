package io.mtpspark.engine.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of daemon threads that split an index range with the calling thread. Dispatch allocates nothing:
 * the caller publishes the task in fields, bumps a generation counter and wakes the workers, who spin briefly
 * before parking so that back-to-back dispatches in a decode loop do not pay for a park/unpark each time.
 *
 * <p>Chunks are claimed by a compare-and-set on one word holding the dispatch number and the next chunk index, and
 * the word is closed before the caller returns. A worker that is still on its way out of the last dispatch (a thread
 * descheduled between a claim and its check) therefore cannot claim a chunk of the next one while the caller is
 * rewriting the task fields: its compare-and-set fails. (With a counter reset to 0 per dispatch, such a worker could
 * run a chunk of the next dispatch with half-written fields and count it twice, so the caller returned while a
 * chunk was still being written.)
 */
final class WorkerPool implements AutoCloseable {
    private static final int SPINS_BEFORE_PARK = 20_000;
    /**
     * Chunks a dispatch is cut into per thread, claimed dynamically: the threads finish together to within about
     * half a chunk, and a chunk costs one compare-and-set. On the dim-2048 BF16 model, 2 threads, AMD EPYC (AVX-512),
     * alternating processes (medians): 16 against 4 took one-row decode from 67.5 to 61.3 ms (6 runs each), 9 rows
     * from 221 to 200 and 81 rows from 870 to 829 ms (4 each); 32 against 16 one row 56.7 → 52.0, 9 rows 196 → 183
     * (5 each); 64 against 32 was mixed (one row 57.9 against 51.3, 9 rows 170 against 215). docs/BENCHMARKS.md,
     * issue 15.
     */
    private static final int CHUNKS_PER_THREAD = 32;

    private final Thread[] workers;
    /** No dispatch open: nothing can be claimed. */
    private static final long CLOSED = -1L;
    /** Dispatch number in the high 32 bits, the next chunk to claim in the low 32; {@link #CLOSED} between. */
    private final AtomicLong claim = new AtomicLong(CLOSED);
    private int dispatch;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile long generation;
    private volatile boolean closed;
    private Backend.RangeTask task;
    private int total;
    private int chunkSize;
    private int chunks;

    WorkerPool(int threads) {
        workers = new Thread[Math.max(0, threads - 1)];
        for (int i = 0; i < workers.length; i++) {
            Thread t = new Thread(this::workerLoop, "mtp-cpu-" + i);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    int threads() {
        return workers.length + 1;
    }

    /** Runs the task over [0, n) on all threads; returns when every chunk is done. Not reentrant. */
    void run(int n, Backend.RangeTask t) {
        run(n, 1, t);
    }

    /**
     * As {@link #run(int, Backend.RangeTask)}, with chunk boundaries at multiples of {@code align} (the matmul's
     * four-output tiles: an unaligned boundary sends the outputs on either side through the one-output kernel).
     */
    void run(int n, int align, Backend.RangeTask t) {
        int c = Math.min(n, threads() * CHUNKS_PER_THREAD);
        task = t;
        total = n;
        chunkSize = ((n + c - 1) / c + align - 1) / align * align;
        c = (n + chunkSize - 1) / chunkSize;
        chunks = c;
        pending.set(c);
        dispatch = (dispatch + 1) & 0x7fffffff;
        claim.set((long) dispatch << 32); // volatile write: publishes the fields above to workers that claim a chunk
        generation++;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        work();
        while (pending.get() > 0) {
            Thread.onSpinWait();
        }
        claim.set(CLOSED); // before the fields are rewritten: a late worker's claim now fails
    }

    private void work() {
        while (true) {
            long v = claim.get();
            if (v == CLOSED) {
                return;
            }
            int c = (int) v;
            if (c >= chunks) {
                return;
            }
            if (!claim.compareAndSet(v, v + 1)) {
                continue;
            }
            int from = c * chunkSize;
            int to = Math.min(total, from + chunkSize);
            if (from < to) {
                task.run(from, to);
            }
            pending.decrementAndGet();
        }
    }

    private void workerLoop() {
        long seen = 0;
        int idle = 0;
        while (!closed) {
            long g = generation;
            if (g != seen) {
                seen = g;
                idle = 0;
                work();
            } else if (idle++ < SPINS_BEFORE_PARK) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
                idle = 0;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
