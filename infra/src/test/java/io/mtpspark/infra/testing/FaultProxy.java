package io.mtpspark.infra.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * An HTTP/1.1 proxy on 127.0.0.1 in front of an S3 endpoint (s3proxy in the tests) that answers a share of requests
 * with what S3 and networks do to clients: 503 SlowDown and 500 InternalError (S3's XML error bodies), a stall
 * (no answer for longer than the client's read timeout, then the connection drops; the request never reaches S3),
 * or a connection reset mid-body (half of an upload's body is read before the reset, so S3 never sees it; a
 * download's response is cut after half its body, after S3 served it).
 *
 * <p>Which requests fail is deterministic for a seed whatever the order in which concurrent clients send them:
 * the decision for the n-th request with a given method and key is drawn from a generator seeded by (seed, method,
 * key, n), the key being the path after the bucket with run-specific ids taken out ({@link #stableKey}), so a
 * seed makes the same decisions in every run. {@link FaultPlan#maxInARow} bounds how many times in a row one
 * request fails, which makes transient faults truly transient; {@link FaultPlan#permanent} fails every matching
 * request. Requests are forwarded unchanged (signatures stay valid; the proxy answers {@code Expect: 100-continue}
 * itself), one upstream connection per client connection, no pipelining (S3 clients do not pipeline).
 */
public final class FaultProxy implements AutoCloseable {
    /** What a faulted request gets. */
    public enum Fault { SLOW_DOWN, INTERNAL_ERROR, STALL, RESET }

    /** A request as the plan sees it: method and request target (path and query). */
    public record Request(String method, String target) {
        public String path() {
            int q = target.indexOf('?');
            return q < 0 ? target : target.substring(0, q);
        }

        /** The path after the bucket (path-style addressing). */
        public String key() {
            String path = path();
            int slash = path.indexOf('/', 1);
            return slash < 0 ? "" : path.substring(slash + 1);
        }

        public boolean isWrite() {
            return method.equals("PUT") || method.equals("POST") || method.equals("DELETE");
        }
    }

    /**
     * Which requests fail and how: each request matching {@code applies} fails with probability {@code rate}
     * (1 = always), with a kind drawn from {@code kinds}; never more than {@code maxInARow} times in a row for the
     * same method and key. {@code stall} is how long a stalled request is held before its connection drops.
     */
    public record FaultPlan(long seed, double rate, int maxInARow, List<Fault> kinds, Duration stall,
                            Predicate<Request> applies, boolean cutXmlBodies) {
        public FaultPlan(long seed, double rate, int maxInARow, List<Fault> kinds, Duration stall,
                         Predicate<Request> applies) {
            this(seed, rate, maxInARow, kinds, stall, applies, true);
        }

        public FaultPlan {
            kinds = List.copyOf(kinds);
            if (kinds.isEmpty() || rate < 0 || rate > 1 || maxInARow < 1) {
                throw new IllegalArgumentException("a plan needs kinds, a rate in [0, 1] and maxInARow >= 1");
            }
            Objects.requireNonNull(stall, "stall");
            Objects.requireNonNull(applies, "applies");
        }

        public static FaultPlan none() {
            return new FaultPlan(0, 0, 1, List.of(Fault.SLOW_DOWN), Duration.ZERO, r -> false);
        }

        /** Transient faults of every kind: {@code rate} of requests, at most {@code maxInARow} failures in a row. */
        public static FaultPlan transientFaults(long seed, double rate, int maxInARow, Duration stall) {
            return new FaultPlan(seed, rate, maxInARow, List.of(Fault.values()), stall, r -> true);
        }

        /**
         * The same plan, but a reset of an XML response (a listing, an upload's result) comes before its first
         * byte rather than mid-body. A reset inside an XML body can leave the SDK (2.35) as an
         * {@code UncheckedIOException} from its XML parser, which neither the SDK's retries nor S3A's see, so the
         * operation fails at once; this avoids that known gap where a test is about everything else.
         */
        public FaultPlan withoutCutXmlBodies() {
            return new FaultPlan(seed, rate, maxInARow, kinds, stall, applies, false);
        }

        /** Every matching request fails with {@code fault}, however often it is retried. */
        public static FaultPlan permanent(Fault fault, Predicate<Request> applies) {
            return new FaultPlan(0, 1, Integer.MAX_VALUE, List.of(fault), Duration.ofSeconds(1), applies);
        }
    }

    /** One request the proxy saw, with the fault it got (null when forwarded untouched). */
    public record Event(Request request, Fault fault) {
    }

    private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final ServerSocket server;
    private final InetSocketAddress upstream;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fault-proxy");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> inARow = new ConcurrentHashMap<>();
    private final List<Event> events = new ArrayList<>();
    private final List<Socket> open = new ArrayList<>();
    private volatile FaultPlan plan = FaultPlan.none();
    private volatile boolean closed;

    private FaultProxy(ServerSocket server, URI upstream) {
        this.server = server;
        this.upstream = new InetSocketAddress(upstream.getHost(), upstream.getPort());
    }

    /** Starts a proxy for {@code upstream} (an http:// endpoint) that forwards everything until given a plan. */
    public static FaultProxy start(URI upstream) throws IOException {
        ServerSocket server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
        FaultProxy proxy = new FaultProxy(server, upstream);
        proxy.threads.execute(proxy::acceptLoop);
        return proxy;
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    /** Replaces the plan; the per-request counters start again so the new plan's decisions do not depend on the old. */
    public void plan(FaultPlan newPlan) {
        seen.clear();
        inARow.clear();
        plan = Objects.requireNonNull(newPlan);
    }

    /** Every request seen so far, in arrival order. */
    public List<Event> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    /** How many faults of each kind were injected into requests matching {@code which}. */
    public Map<Fault, Integer> injected(Predicate<Request> which) {
        Map<Fault, Integer> counts = new EnumMap<>(Fault.class);
        for (Event e : events()) {
            if (e.fault() != null && which.test(e.request())) {
                counts.merge(e.fault(), 1, Integer::sum);
            }
        }
        return counts;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        synchronized (open) {
            for (Socket s : open) {
                s.close();
            }
        }
        threads.shutdownNow();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                track(client);
                threads.execute(() -> serve(client));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void track(Socket s) {
        synchronized (open) {
            open.add(s);
        }
    }

    private Fault decide(Request request) {
        FaultPlan p = plan;
        if (!p.applies().test(request)) {
            return null;
        }
        // The bucket (first path segment) is left out: tests use a fresh random bucket, the keys are what repeat.
        String key = request.method() + " " + stableKey(request.key());
        int n = seen.computeIfAbsent(key, k -> new AtomicInteger()).getAndIncrement();
        AtomicInteger row = inARow.computeIfAbsent(key, k -> new AtomicInteger());
        SplittableRandom draw = new SplittableRandom(p.seed() * 0x9E3779B97F4A7C15L
                ^ key.hashCode() * 0xC2B2AE3D27D4EB4FL ^ n);
        boolean fail = draw.nextDouble() < p.rate() && row.get() < p.maxInARow();
        Fault kind = p.kinds().get(draw.nextInt(p.kinds().size()));
        if (!fail) {
            row.set(0);
            return null;
        }
        row.incrementAndGet();
        return kind;
    }

    private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern HADOOP_JOB = Pattern.compile("job_\\d+_\\d+");
    private static final Pattern HADOOP_TASK = Pattern.compile("(attempt|task)_\\d+_\\d+_([mr])_(\\d+)(_\\d+)?");

    /**
     * The key with what differs from run to run taken out: UUIDs (Spark's write job ids in part file names),
     * Hadoop job ids (a timestamp and a random number) and task attempt ids (job id and attempt counter; the
     * partition stays). Without this, which writes fail would change with every run, and a run could see none.
     */
    static String stableKey(String key) {
        String k = UUID.matcher(key).replaceAll("<uuid>");
        k = HADOOP_TASK.matcher(k).replaceAll("$1_<job>_$2_$3");
        return HADOOP_JOB.matcher(k).replaceAll("job_<id>");
    }

    /** One client connection: request by request, forwarded or faulted, until either side closes. */
    private void serve(Socket client) {
        Socket up = null;
        InputStream upIn = null;
        try (client) {
            InputStream in = new BufferedInputStream(client.getInputStream());
            OutputStream out = client.getOutputStream();
            while (!closed) {
                Head head = Head.read(in);
                if (head == null) {
                    return;
                }
                String[] line = head.first.split(" ", 3);
                Request request = new Request(line[0], line.length > 1 ? line[1] : "/");
                Fault fault = decide(request);
                synchronized (events) {
                    events.add(new Event(request, fault));
                }
                if (head.expectsContinue()) {
                    out.write(CONTINUE);
                    out.flush();
                }
                Body body = Body.ofRequest(head);
                if (fault == Fault.RESET && body.length() != 0) {
                    body.copy(in, OutputStream.nullOutputStream(), body.length() > 0 ? body.length() / 2 : 64);
                    reset(client);
                    return;
                }
                if (fault == Fault.SLOW_DOWN || fault == Fault.INTERNAL_ERROR || fault == Fault.STALL) {
                    body.copy(in, OutputStream.nullOutputStream(), Long.MAX_VALUE);
                    if (fault == Fault.STALL) {
                        Thread.sleep(plan.stall().toMillis());
                        return; // the client gave up long ago; drop the connection without an answer
                    }
                    out.write(errorResponse(fault, request.method().equals("HEAD")));
                    out.flush();
                    continue;
                }
                if (up == null) {
                    up = new Socket();
                    up.connect(upstream, 5_000);
                    track(up);
                    upIn = new BufferedInputStream(up.getInputStream());
                }
                OutputStream upOut = up.getOutputStream();
                upOut.write(head.withoutExpect());
                body.copy(in, upOut, Long.MAX_VALUE);
                upOut.flush();
                Head response = Head.read(upIn);
                if (response == null) {
                    return;
                }
                Body responseBody = Body.ofResponse(response, request.method());
                if (fault == Fault.RESET) {
                    // a request without a body is cut in its response: headers and half the body, then a reset
                    boolean xml = response.headers().getOrDefault("content-type", "").contains("xml");
                    if (responseBody.length() != 0 && (plan.cutXmlBodies() || !xml)) {
                        out.write(response.bytes);
                        responseBody.copy(upIn, out, responseBody.length() > 0 ? responseBody.length() / 2 : 64);
                        out.flush();
                    }
                    reset(client);
                    return;
                }
                out.write(response.bytes);
                responseBody.copy(upIn, out, Long.MAX_VALUE);
                out.flush();
                if (response.closes() || head.closes() || responseBody.length() == -2) {
                    return;
                }
            }
        } catch (IOException e) {
            // a client or upstream that went away: nothing to answer
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(up);
        }
    }

    private static void reset(Socket client) throws IOException {
        client.setSoLinger(true, 0); // close sends RST instead of FIN
        client.close();
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private static final AtomicInteger REQUEST_IDS = new AtomicInteger();

    static byte[] errorResponse(Fault fault, boolean head) {
        int status = fault == Fault.SLOW_DOWN ? 503 : 500;
        String reason = fault == Fault.SLOW_DOWN ? "Slow Down" : "Internal Server Error";
        String code = fault == Fault.SLOW_DOWN ? "SlowDown" : "InternalError";
        String message = fault == Fault.SLOW_DOWN ? "Please reduce your request rate."
                : "We encountered an internal error. Please try again.";
        String requestId = String.format(Locale.ROOT, "FAULT%011d", REQUEST_IDS.incrementAndGet());
        String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message
                + "</Message><RequestId>" + requestId + "</RequestId><HostId>fault-proxy</HostId></Error>";
        byte[] body = head ? new byte[0] : xml.getBytes(StandardCharsets.UTF_8);
        String headers = "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: application/xml\r\nContent-Length: "
                + body.length + "\r\nx-amz-request-id: " + requestId + "\r\nServer: fault-proxy\r\n\r\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(headers.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(body);
        return out.toByteArray();
    }

    /** A request or response head: its raw bytes (first line and headers, through the blank line) and headers. */
    private record Head(byte[] bytes, String first, Map<String, String> headers) {
        static Head read(InputStream in) throws IOException {
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            int last4 = 0;
            while (last4 != 0x0D0A0D0A) {
                int b = in.read();
                if (b < 0) {
                    if (raw.size() == 0) {
                        return null;
                    }
                    throw new SocketException("connection closed inside a message head");
                }
                raw.write(b);
                last4 = (last4 << 8) | b;
                if (raw.size() > 1 << 20) {
                    throw new SocketException("message head over 1 MiB");
                }
            }
            String text = raw.toString(StandardCharsets.ISO_8859_1);
            String[] lines = text.split("\r\n");
            Map<String, String> headers = new ConcurrentHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                            lines[i].substring(colon + 1).trim());
                }
            }
            return new Head(raw.toByteArray(), lines[0], headers);
        }

        boolean expectsContinue() {
            return "100-continue".equalsIgnoreCase(headers.getOrDefault("expect", ""));
        }

        boolean closes() {
            return "close".equalsIgnoreCase(headers.getOrDefault("connection", ""));
        }

        /** The head as sent upstream: without {@code Expect}, which the proxy has answered already. */
        byte[] withoutExpect() {
            if (!expectsContinue()) {
                return bytes;
            }
            StringBuilder sb = new StringBuilder();
            for (String l : new String(bytes, StandardCharsets.ISO_8859_1).split("\r\n")) {
                if (!l.toLowerCase(Locale.ROOT).startsWith("expect:")) {
                    sb.append(l).append("\r\n");
                }
            }
            return sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        }
    }

    /** How a message body is delimited: a length, chunked ({@code -1}), or up to the connection's end ({@code -2}). */
    private record Body(long length) {
        static Body ofRequest(Head head) {
            if ("chunked".equalsIgnoreCase(head.headers().getOrDefault("transfer-encoding", ""))) {
                return new Body(-1);
            }
            return new Body(Long.parseLong(head.headers().getOrDefault("content-length", "0")));
        }

        static Body ofResponse(Head head, String method) {
            int status = Integer.parseInt(head.first().split(" ", 3)[1]);
            if (method.equals("HEAD") || status / 100 == 1 || status == 204 || status == 304) {
                return new Body(0);
            }
            if ("chunked".equalsIgnoreCase(head.headers().getOrDefault("transfer-encoding", ""))) {
                return new Body(-1);
            }
            String length = head.headers().get("content-length");
            return new Body(length == null ? -2 : Long.parseLong(length));
        }

        /** Copies the body (at most {@code limit} bytes of it) from {@code in} to {@code out}. */
        void copy(InputStream in, OutputStream out, long limit) throws IOException {
            if (length >= 0) {
                copyBytes(in, out, Math.min(length, limit));
            } else if (length == -2) {
                copyBytes(in, out, limit);
            } else {
                copyChunked(in, out, limit);
            }
        }

        private static void copyBytes(InputStream in, OutputStream out, long n) throws IOException {
            byte[] buf = new byte[16384];
            long left = n;
            while (left > 0) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (r < 0) {
                    if (n == Long.MAX_VALUE) {
                        return; // body up to the connection's end
                    }
                    throw new SocketException("connection closed inside a body");
                }
                out.write(buf, 0, r);
                left -= r;
            }
        }

        private static void copyChunked(InputStream in, OutputStream out, long limit) throws IOException {
            long copied = 0;
            while (copied < limit) {
                String sizeLine = line(in);
                out.write((sizeLine + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                int semi = sizeLine.indexOf(';');
                long size = Long.parseLong((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
                if (size == 0) {
                    String trailer;
                    do {
                        trailer = line(in);
                        out.write((trailer + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    } while (!trailer.isEmpty());
                    return;
                }
                if (size > limit - copied) {
                    copyBytes(in, out, limit - copied); // cut inside the chunk, so the message is truly incomplete
                    return;
                }
                copyBytes(in, out, size + 2); // data and its CRLF
                copied += size;
            }
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder sb = new StringBuilder();
            int b;
            while ((b = in.read()) != '\n') {
                if (b < 0) {
                    throw new SocketException("connection closed inside a chunked body");
                }
                if (b != '\r') {
                    sb.append((char) b);
                }
            }
            return sb.toString();
        }
    }
}
