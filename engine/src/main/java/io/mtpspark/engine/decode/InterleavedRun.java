package io.mtpspark.engine.decode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Decodes the same requests with several decoders at once, one step at a time, always stepping the decoder that has
 * spent the least time so far, so that every decoder runs through the same moments of a shared machine. A speedup
 * measured this way compares the decoders under the same load: two runs back to back on a busy 2-core machine
 * differ by tens of percent on their own, interleaved runs do not. Each request's time under a decoder is the sum of
 * that decoder's steps while the request was in flight (what its wall time would have been had the decoder run
 * alone), so the other decoders' steps never count against it.
 */
public final class InterleavedRun {
    /** One request's result under one decoder, with the time of that decoder's steps while it was in flight. */
    public record Timed(GenerationResult result, long nanos) {
    }

    private InterleavedRun() {
    }

    /**
     * Runs {@code requests} through every decoder (each with its own batch size) and returns, per decoder, the timed
     * results in request order. Every decoder must be idle. If any step throws, every decoder is aborted (so each
     * takes new requests again) and the exception propagates.
     */
    public static List<List<Timed>> run(List<Decoder> decoders, List<GenerationRequest> requests) {
        int n = decoders.size();
        State[] states = new State[n];
        for (int d = 0; d < n; d++) {
            if (decoders.get(d).active() > 0) {
                throw new IllegalStateException("decoder " + d + " has sequences in flight");
            }
            states[d] = new State(decoders.get(d), requests.size());
        }
        try {
            while (true) {
                State next = null;
                for (State s : states) {
                    if (!s.done() && (next == null || s.spent < next.spent)) {
                        next = s;
                    }
                }
                if (next == null) {
                    break;
                }
                next.step(requests);
            }
        } catch (RuntimeException e) {
            for (Decoder d : decoders) {
                d.abort();
            }
            throw e;
        }
        List<List<Timed>> out = new ArrayList<>();
        for (State s : states) {
            List<Timed> timed = new ArrayList<>();
            for (int i = 0; i < requests.size(); i++) {
                timed.add(new Timed(s.results[i], s.nanos[i]));
            }
            out.add(timed);
        }
        return out;
    }

    /** One decoder's progress through the requests. */
    private static final class State {
        final Decoder decoder;
        final GenerationResult[] results;
        final long[] nanos;
        final long[] tickets; // ticket of each admitted request, in admission order
        final int[] inFlight; // request indices in flight
        int inFlightCount;
        int next;
        int finished;
        long spent;

        State(Decoder decoder, int requests) {
            this.decoder = decoder;
            this.results = new GenerationResult[requests];
            this.nanos = new long[requests];
            this.tickets = new long[requests];
            this.inFlight = new int[Math.max(1, decoder.batchSize())];
        }

        boolean done() {
            return finished == results.length;
        }

        void step(List<GenerationRequest> requests) {
            while (next < results.length && decoder.hasFreeSlot()) {
                tickets[next] = decoder.submit(requests.get(next));
                inFlight[inFlightCount++] = next++;
            }
            long t0 = System.nanoTime();
            List<Decoder.Completion> completed = decoder.step();
            long dt = System.nanoTime() - t0;
            spent += dt;
            for (int i = 0; i < inFlightCount; i++) {
                nanos[inFlight[i]] += dt;
            }
            for (Decoder.Completion c : completed) {
                int request = indexOf(c.ticket());
                results[request] = c.result();
                finished++;
                for (int i = 0; i < inFlightCount; i++) {
                    if (inFlight[i] == request) {
                        inFlight[i] = inFlight[--inFlightCount];
                        break;
                    }
                }
            }
        }

        private int indexOf(long ticket) {
            int i = Arrays.binarySearch(tickets, 0, next, ticket); // tickets increase with admission
            if (i < 0) {
                throw new IllegalStateException("decoder returned unknown ticket " + ticket);
            }
            return i;
        }
    }
}
