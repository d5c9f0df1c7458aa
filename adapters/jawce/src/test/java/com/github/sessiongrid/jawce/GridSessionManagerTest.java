package com.github.sessiongrid.jawce;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import zw.co.dcl.jawce.session.ISessionManager;

/**
 * The jawce adapter's tests: a plain-Java runner (no JUnit: Maven Central is
 * out of reach) that exits non-zero when any test fails.
 *
 * <pre>
 * GRIDNODE_ADDR=127.0.0.1:6379 java -cp classes com.github.sessiongrid.jawce.GridSessionManagerTest
 * </pre>
 *
 * Without GRIDNODE_ADDR only the tests that need no server run when the
 * argument {@code --unit} is given; otherwise a missing GRIDNODE_ADDR is a
 * failure. GRIDNODE_PASSWORD is sent with AUTH when set.
 * GRIDNODE_INTEROP_PREFIX (set by adapters_test.go) enables the
 * cross-language checks: read PREFIX+lang for each lang of
 * GRIDNODE_INTEROP_READ (default "go"; the harness adds "py" once the pywce
 * tests wrote theirs), and write PREFIX+"java".
 */
public final class GridSessionManagerTest {

    // ------------------------------------------------------------ tiny framework

    interface Body {
        void run() throws Exception;
    }

    private static int passed;
    private static final List<String> failed = new ArrayList<>();
    /** JAWCE_TEST_RUN: comma-separated name fragments; only matching tests run. */
    private static final String filter = System.getenv().getOrDefault("JAWCE_TEST_RUN", "");

    private static void test(String name, Body body) {
        if (!filter.isEmpty() && Arrays.stream(filter.split(",")).noneMatch(name::contains)) {
            return;
        }
        long start = System.nanoTime();
        try {
            body.run();
            passed++;
            System.out.printf("ok   %-60s %5d ms%n", name, (System.nanoTime() - start) / 1_000_000);
        } catch (Throwable t) {
            failed.add(name);
            System.out.printf("FAIL %s%n", name);
            t.printStackTrace(System.out);
        }
    }

    static void check(boolean cond, String msg) {
        if (!cond) {
            throw new AssertionError(msg);
        }
    }

    static void eq(Object want, Object got, String what) {
        if (!java.util.Objects.deepEquals(want, got)) {
            throw new AssertionError(what + ": want <" + show(want) + "> got <" + show(got) + ">");
        }
    }

    static String show(Object o) {
        if (o == null) {
            return "null";
        }
        if (o instanceof byte[]) {
            return "bytes:" + new String((byte[]) o, StandardCharsets.UTF_8);
        }
        return o + " (" + o.getClass().getSimpleName() + ")";
    }

    static <T extends Throwable> T raises(Class<T> type, Body body) throws Exception {
        try {
            body.run();
        } catch (Throwable t) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
            throw new AssertionError("want " + type.getSimpleName() + ", got " + t, t);
        }
        throw new AssertionError("want " + type.getSimpleName() + ", nothing was thrown");
    }

    static void waitUntil(BooleanSupplier cond, long timeoutMs, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeoutMs + " ms waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Runs n workers started together; rethrows the first failure. */
    static void parallel(int n, IntBody body) throws Exception {
        CyclicBarrier barrier = new CyclicBarrier(n);
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            final int id = i;
            Thread t = new Thread(() -> {
                try {
                    barrier.await(30, TimeUnit.SECONDS);
                    body.run(id);
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "worker-" + i);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(120_000);
            check(!t.isAlive(), t.getName() + " did not finish");
        }
        if (!errors.isEmpty()) {
            throw new AssertionError("worker failed: " + errors.get(0), errors.get(0));
        }
    }

    interface IntBody {
        void run(int i) throws Exception;
    }

    // ------------------------------------------------------------ shared data

    /** The cross-language data set: the same literals are in adapters_test.go and the pywce test. */
    static Map<String, Object> interopData() {
        Map<String, Object> auth = new LinkedHashMap<>();
        auth.put("token", "t-1");
        auth.put("exp", 1700000000L);
        auth.put("roles", List.of("user"));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", "MENU-1");
        m.put("count", 42L);
        m.put("ratio", 1.5);
        m.put("ok", true);
        m.put("none", null);
        m.put("history", List.of("wamid.1", "wamid.2"));
        m.put("auth", auth);
        m.put("text", "h\u00e9llo \u2713 <&> \"q\" \\ \n\t\u00e0\uD83D\uDE00");
        return m;
    }

    static Map<String, Object> interopProps() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "Ada");
        m.put("age", 36L);
        return m;
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    enum Stage { MENU, CHECKOUT }

    record Address(String city, int number, List<Object> lines) {
    }

    // ------------------------------------------------------------ main

    public static void main(String[] args) throws Exception {
        boolean unitOnly = Arrays.asList(args).contains("--unit");
        jsonTests();
        respTests();
        interfaceTests();
        String addr = System.getenv("GRIDNODE_ADDR");
        if (addr == null || addr.isEmpty()) {
            if (!unitOnly) {
                failed.add("GRIDNODE_ADDR is not set: start a gridnode and set GRIDNODE_ADDR=host:port "
                        + "(adapters/adapters_test.go does both), or pass --unit");
            }
        } else {
            int colon = addr.lastIndexOf(':');
            RespClient.Config cfg = RespClient.Config.of(addr.substring(0, colon), Integer.parseInt(addr.substring(colon + 1)));
            cfg.password = System.getenv("GRIDNODE_PASSWORD");
            if (cfg.password != null && cfg.password.isEmpty()) {
                cfg.password = null;
            }
            gridTests(cfg);
        }
        System.out.printf("%n%d passed, %d failed%n", passed, failed.size());
        for (String f : failed) {
            System.out.println("FAILED: " + f);
        }
        System.exit(failed.isEmpty() ? 0 : 1);
    }

    // ------------------------------------------------------------ JSON

    static void jsonTests() {
        test("json/round trip of the interop data", () -> {
            Map<String, Object> d = interopData();
            eq(d, Json.decode(Json.encode(d)), "round trip");
        });
        test("json/compact output, insertion order, escapes", () -> {
            eq("{\"a\":1,\"b\":[true,null],\"c\":\"x\\\"\\\\\\n\\u0001\u00e9\"}",
                    Json.encode(map("a", 1, "b", Arrays.asList(true, null), "c", "x\"\\\n\u0001\u00e9")), "encode");
            eq("\"\\u2028\"", Json.encode("\u2028"), "line separator escaped");
            eq("\"\\ud800x\"", Json.encode("\uD800x"), "lone surrogate escaped");
            eq("\"\uD83D\uDE00\"", Json.encode("\uD83D\uDE00"), "pair kept");
        });
        test("json/numbers keep their kind", () -> {
            eq(42L, Json.decode("42"), "int");
            eq(-0L, Json.decode("-0"), "-0");
            eq(Long.MAX_VALUE, Json.decode("9223372036854775807"), "long max");
            eq(new BigInteger("9223372036854775808"), Json.decode("9223372036854775808"), "bigint");
            eq(1.5, Json.decode("1.5"), "double");
            eq(1000.0, Json.decode("1e3"), "exponent");
            eq(-0.25, Json.decode("-2.5E-1"), "neg exp");
            eq("42.0", Json.encode(42.0), "integral double keeps its fraction");
            eq("1.5", Json.encode(1.5), "double");
            eq("0.1", Json.encode(0.1f), "float");
            eq("7", Json.encode(7), "int");
            eq("123456789012345678901234567890", Json.encode(new BigInteger("123456789012345678901234567890")), "bigint");
            raises(IllegalArgumentException.class, () -> Json.encode(Double.NaN));
            raises(IllegalArgumentException.class, () -> Json.encode(Double.POSITIVE_INFINITY));
        });
        test("json/what Go and Python write decodes", () -> {
            eq(map("t", "<&>", "n", 1000.0, "u", "\uD83D\uDE00"),
                    Json.decode("{\"t\":\"\\u003c\\u0026\\u003e\",\"n\":1e3,\"u\":\"\\ud83d\\ude00\"}"), "go");
            eq(map("a", List.of(1L, 2L), "b", map()), Json.decode(" { \"a\" : [ 1 , 2 ] , \"b\" : { } } \n"), "spaces");
        });
        test("json/records, enums, arrays, java.time encode", () -> {
            eq("{\"city\":\"Harare\",\"number\":1,\"lines\":[\"a\"]}",
                    Json.encode(new Address("Harare", 1, List.of("a"))), "record");
            eq("[\"MENU\",[1,2],\"2024-01-02\"]",
                    Json.encode(List.of(Stage.MENU, new int[] {1, 2}, java.time.LocalDate.of(2024, 1, 2))), "mixed");
            raises(IllegalArgumentException.class, () -> Json.encode(new Object()));
            raises(IllegalArgumentException.class, () -> Json.encode(new byte[] {1}));
            List<Object> cyclic = new ArrayList<>();
            cyclic.add(cyclic);
            raises(IllegalArgumentException.class, () -> Json.encode(cyclic));
        });
        test("json/malformed input is a clear error", () -> {
            String[] bad = {"", " ", "{", "[1,", "[1 2]", "{\"a\" 1}", "{a:1}", "01", "1.", "1e", "-", "+1", "tru",
                "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12zz\"", "\"a\u0001\"", "[1]x", "{\"a\":1,}", "[,]", "NaN",
                "1e999"};
            for (String s : bad) {
                Json.JsonException e = raises(Json.JsonException.class, () -> Json.decode(s));
                check(e.getMessage().startsWith("json: "), "message of " + s + ": " + e.getMessage());
            }
            String deep = "[".repeat(600) + "]".repeat(600);
            raises(Json.JsonException.class, () -> Json.decode(deep));
            String ok = "[".repeat(500) + "]".repeat(500);
            check(Json.decode(ok) instanceof List, "500 levels decode");
        });
        test("json/typed conversion", () -> {
            eq(42, Json.convert(42L, Integer.class), "Long to Integer");
            eq(42, Json.convert("42", Integer.class), "text to Integer");
            eq(42, (int) Json.convert(42.0, int.class), "integral double to int");
            eq(42L, Json.convert(42L, Long.class), "Long");
            eq(42.0, Json.convert(42L, Double.class), "Long to Double");
            eq(1.5, Json.convert("1.5", Double.class), "text to Double");
            eq("42", Json.convert(42L, String.class), "Long to String");
            eq("1.5", Json.convert(1.5, String.class), "Double to String");
            eq(true, Json.convert("true", Boolean.class), "text to Boolean");
            eq(false, Json.convert(false, Boolean.class), "Boolean");
            eq(Stage.CHECKOUT, Json.convert("CHECKOUT", Stage.class), "enum");
            eq(map("a", 1L), Json.convert(map("a", 1L), Map.class), "Map");
            eq(List.of(1L), Json.convert(List.of(1L), List.class), "List");
            eq(new Address("Harare", 7, List.of("x")),
                    Json.convert(map("city", "Harare", "number", 7L, "lines", List.of("x")), Address.class), "record");
            check(Json.convert(null, Integer.class) == null, "null stays null");
            raises(IllegalArgumentException.class, () -> Json.convert(1.5, Integer.class));
            raises(IllegalArgumentException.class, () -> Json.convert(1L << 40, Integer.class));
            raises(IllegalArgumentException.class, () -> Json.convert("x", Long.class));
            raises(IllegalArgumentException.class, () -> Json.convert("yes", Boolean.class));
            raises(IllegalArgumentException.class, () -> Json.convert(List.of(), Map.class));
            raises(IllegalArgumentException.class, () -> Json.convert(map(), String.class));
            raises(IllegalArgumentException.class, () -> Json.convert(null, int.class));
        });
    }

    // ------------------------------------------------------------ RESP framing

    static Object parse(String wire) throws IOException {
        return RespProtocol.read(new ByteArrayInputStream(wire.getBytes(StandardCharsets.UTF_8)));
    }

    static void respTests() {
        test("resp/writes arrays of bulk strings", () -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            RespProtocol.write(out, "HSET", "s\u00e9", new byte[] {'{', '}'}, 12);
            eq("*4\r\n$4\r\nHSET\r\n$3\r\ns\u00e9\r\n$2\r\n{}\r\n$2\r\n12\r\n",
                    new String(out.toByteArray(), StandardCharsets.UTF_8), "wire");
        });
        test("resp/parses every reply type", () -> {
            eq("OK", parse("+OK\r\n"), "simple");
            eq(-3L, parse(":-3\r\n"), "integer");
            eq("a\r\nb".getBytes(StandardCharsets.UTF_8), parse("$4\r\na\r\nb\r\n"), "bulk with CRLF inside");
            eq(new byte[0], parse("$0\r\n\r\n"), "empty bulk");
            check(parse("$-1\r\n") == null, "null bulk");
            check(parse("*-1\r\n") == null, "null array");
            check(parse("_\r\n") == null, "resp3 null");
            eq(true, parse("#t\r\n"), "resp3 bool");
            eq(2.5, parse(",2.5\r\n"), "resp3 double");
            eq(new BigInteger("123456789012345678901234567890"), parse("(123456789012345678901234567890\r\n"), "big");
            @SuppressWarnings("unchecked")
            List<Object> l = (List<Object>) parse("*3\r\n:1\r\n*1\r\n+x\r\n-ERR inner\r\n");
            eq(1L, l.get(0), "array[0]");
            eq(List.of("x"), l.get(1), "nested");
            check(l.get(2) instanceof RespException && ((RespException) l.get(2)).code().equals("ERR"), "error element");
            @SuppressWarnings("unchecked")
            Map<Object, Object> m = (Map<Object, Object>) parse("%1\r\n$1\r\nk\r\n:7\r\n");
            eq(7L, m.get("k"), "resp3 map");
        });
        test("resp/error replies carry their code", () -> {
            RespException e = raises(RespException.class, () -> parse("-WRONGTYPE Operation against a key\r\n"));
            eq("WRONGTYPE", e.code(), "code");
            eq("WRONGTYPE Operation against a key", e.getMessage(), "message");
            eq("ERR", raises(RespException.class, () -> parse("-ERR\r\n")).code(), "bare code");
        });
        test("resp/malformed replies are protocol errors", () -> {
            String[] bad = {"?x\r\n", ":abc\r\n", "$-2\r\n", "$3\r\nab\r\n", "$2\r\nabXY", "*-5\r\n", "+OK\n",
                "+OK\rX", "#x\r\n", ",zz\r\n", "$99999999999\r\n", "*99999999999\r\n"};
            for (String s : bad) {
                IOException e = raises(IOException.class, () -> parse(s));
                check(e.getMessage().startsWith("resp: "), s + ": " + e.getMessage());
            }
            raises(EOFException.class, () -> parse(""));
            raises(EOFException.class, () -> parse("$5\r\nab"));
            raises(EOFException.class, () -> parse("*2\r\n:1\r\n"));
            String deep = "*1\r\n".repeat(100) + ":1\r\n";
            raises(RespProtocol.ProtocolException.class, () -> parse(deep));
            String longLine = "+" + "x".repeat(RespProtocol.MAX_LINE + 1) + "\r\n";
            raises(RespProtocol.ProtocolException.class, () -> parse(longLine));
        });
        test("resp/a dead pooled connection is replaced, a broken one is not reused", () -> {
            // A real server socket that answers one command per connection
            // and then closes it, as a server does with idle clients.
            try (ServerSocket ss = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
                AtomicInteger conns = new AtomicInteger();
                AtomicBoolean garbage = new AtomicBoolean();
                Thread srv = new Thread(() -> {
                    while (!ss.isClosed()) {
                        try (Socket s = ss.accept()) {
                            conns.incrementAndGet();
                            InputStream in = s.getInputStream();
                            OutputStream out = s.getOutputStream();
                            readCommand(in);
                            out.write((garbage.get() ? "?bad\r\n" : "+PONG\r\n").getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                        } catch (IOException e) {
                            return;
                        }
                    }
                }, "fake-server");
                srv.setDaemon(true);
                srv.start();
                RespClient.Config cfg = RespClient.Config.of("127.0.0.1", ss.getLocalPort());
                cfg.clientName = null;
                cfg.maxConnections = 1;
                try (RespClient c = new RespClient(cfg)) {
                    eq("PONG", c.call("PING"), "first call");
                    waitUntil(() -> conns.get() == 1, 5000, "the server to see one connection");
                    // The pooled connection is closed by now: the call is retried on a new one.
                    eq("PONG", c.call("PING"), "second call on a fresh connection");
                    eq(2, conns.get(), "connections");
                    garbage.set(true);
                    RespConnectionException e = raises(RespConnectionException.class, () -> c.call("PING"));
                    check(e.getMessage().contains("unexpected reply type"), e.getMessage());
                }
            }
        });
        test("resp/unreachable server is a RespConnectionException", () -> {
            int port;
            try (ServerSocket ss = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = ss.getLocalPort();
            }
            RespClient.Config cfg = RespClient.Config.of("127.0.0.1", port);
            cfg.connectTimeoutMillis = 2000;
            try (RespClient c = new RespClient(cfg)) {
                RespConnectionException e = raises(RespConnectionException.class, () -> c.call("PING"));
                check(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
            }
            raises(IllegalArgumentException.class, () -> new RespClient(RespClient.Config.of("", 1)));
            raises(IllegalArgumentException.class, () -> new RespClient(RespClient.Config.of("h", 70000)));
        });
    }

    static void readCommand(InputStream in) throws IOException {
        String head = readLine(in);
        if (!head.startsWith("*")) {
            throw new IOException("not a command: " + head);
        }
        int n = Integer.parseInt(head.substring(1));
        for (int i = 0; i < n; i++) {
            int len = Integer.parseInt(readLine(in).substring(1));
            in.readNBytes(len + 2);
        }
    }

    static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != '\r') {
            if (c < 0) {
                throw new EOFException();
            }
            sb.append((char) c);
        }
        in.read();
        return sb.toString();
    }

    // ------------------------------------------------------------ the interface

    static void interfaceTests() {
        test("interface/every ISessionManager method is implemented", () -> {
            Set<String> want = new HashSet<>(Arrays.asList(
                    "session(String)", "save(String,String,Object)", "get(String,String)", "fetchAll(String)",
                    "evict(String,String)", "clear(String)", "saveAll(String,Map)", "evictAll(String,List)",
                    "evictGlobal(String)", "clear(String,List)", "evictProp(String,String)",
                    "getFromProps(String,String)", "keyInSession(String,String,boolean)", "getUserProps(String)",
                    "saveGlobal(String,Object)", "saveProp(String,String,Object)", "get(String,String,Class)",
                    "getGlobal(String,Class)", "getFromProps(String,String,Class)"));
            Set<String> got = new HashSet<>();
            for (Method m : ISessionManager.class.getDeclaredMethods()) {
                StringBuilder sb = new StringBuilder(m.getName()).append('(');
                Class<?>[] ps = m.getParameterTypes();
                for (int i = 0; i < ps.length; i++) {
                    sb.append(i > 0 ? "," : "").append(ps[i].getSimpleName());
                }
                got.add(sb.append(')').toString());
                Method impl = GridSessionManager.class.getMethod(m.getName(), ps);
                check(!Modifier.isAbstract(impl.getModifiers()), m + " is abstract");
            }
            eq(want, got, "the seed's ISessionManager methods");
            check(ISessionManager.class.isAssignableFrom(GridSessionManager.class), "implements ISessionManager");
        });
    }

    // ------------------------------------------------------------ against gridnode

    static void gridTests(RespClient.Config cfg) throws Exception {
        String prefix = "jawce-test:" + UUID.randomUUID().toString().substring(0, 8) + ":";
        AtomicInteger seq = new AtomicInteger();
        try (GridSessionManager m = new GridSessionManager(cfg)) {
            RespClient r = m.client();
            java.util.function.Supplier<String> newId = () -> prefix + "26377" + seq.incrementAndGet();

            test("grid/session returns the same manager", () -> {
                check(m.session("263770000001") == m, "session() returns this");
                check(m.session(null) == m, "session(null) returns this");
            });

            test("grid/save and get round trip JSON values", () -> {
                String u = newId.get();
                Map<String, Object> d = interopData();
                d.forEach((k, v) -> m.save(u, k, v));
                for (Map.Entry<String, Object> e : d.entrySet()) {
                    eq(e.getValue(), m.get(u, e.getKey()), "get " + e.getKey());
                }
                check(m.get(u, "missing") == null, "missing key");
                check(m.get(prefix + "nobody", "stage") == null, "missing session");
                eq(d, m.fetchAll(u), "fetchAll");
            });

            test("grid/values are compact JSON on the wire; Go's JSON reads back", () -> {
                String u = newId.get();
                m.save(u, "obj", map("a", 1, "b", Arrays.asList(true, null)));
                eq("{\"a\":1,\"b\":[true,null]}".getBytes(StandardCharsets.UTF_8), r.call("HGET", u, "obj"), "bytes");
                r.call("HSET", u, "go", "{\"t\":\"\\u003c\\u0026\\u003e\",\"n\":1e3}");
                eq(map("t", "<&>", "n", 1000.0), m.get(u, "go"), "go-encoded");
                r.call("HSET", u, "raw", "not json");
                IllegalArgumentException e = raises(IllegalArgumentException.class, () -> m.get(u, "raw"));
                check(e.getMessage().contains("'raw'"), e.getMessage());
                raises(IllegalArgumentException.class, () -> m.save(u, "bad", new Object()));
                check(m.get(u, "bad") == null, "nothing stored for an unencodable value");
            });

            test("grid/typed getters", () -> {
                String u = newId.get();
                m.saveAll(u, map("s", "text", "i", 42, "l", 1L << 40, "d", 2.5, "b", true, "m", map("k", "v"),
                        "list", List.of(1, 2), "n", "17", "addr", new Address("Harare", 3, List.of("a"))));
                eq("text", m.get(u, "s", String.class), "String");
                eq(42, m.get(u, "i", Integer.class), "Integer");
                eq(1L << 40, m.get(u, "l", Long.class), "Long");
                eq(2.5, m.get(u, "d", Double.class), "Double");
                eq(true, m.get(u, "b", Boolean.class), "Boolean");
                eq(map("k", "v"), m.get(u, "m", Map.class), "Map");
                eq(List.of(1L, 2L), m.get(u, "list", List.class), "List");
                eq(17, m.get(u, "n", Integer.class), "numeric text to Integer");
                eq("42", m.get(u, "i", String.class), "number to String");
                eq(new Address("Harare", 3, List.of("a")), m.get(u, "addr", Address.class), "record");
                check(m.get(u, "missing", Integer.class) == null, "missing typed");
                raises(IllegalArgumentException.class, () -> m.get(u, "l", Integer.class));
                raises(IllegalArgumentException.class, () -> m.get(u, "s", Map.class));
            });

            test("grid/saveAll is one HSET, empty is a no-op", () -> {
                String u = newId.get();
                m.save(u, "keep", 1);
                m.saveAll(u, map("a", 1, "b", "two", "keep", 3));
                eq(map("a", 1L, "b", "two", "keep", 3L), m.fetchAll(u), "after saveAll");
                m.saveAll(u, Collections.emptyMap());
                m.saveAll(u, null);
                eq(3, m.fetchAll(u).size(), "unchanged");
            });

            test("grid/fetchAll excludes props; missing session gives an empty mutable map", () -> {
                String u = newId.get();
                Map<String, Object> none = m.fetchAll(u);
                check(none.isEmpty(), "empty");
                none.put("x", 1); // mutable, as jawce's managers return
                m.save(u, "stage", "A");
                m.saveProp(u, "name", "Ada");
                eq(map("stage", "A"), m.fetchAll(u), "data only");
            });

            test("grid/evict and evictAll", () -> {
                String u = newId.get();
                m.saveAll(u, map("a", 1, "b", 2, "c", 3, "d", 4));
                m.evict(u, "a");
                m.evict(u, "missing");
                m.evictAll(u, List.of("b", "c", "missing"));
                eq(map("d", 4L), m.fetchAll(u), "left");
                m.evictAll(u, List.of());
                m.evictAll(prefix + "nobody", List.of("x"));
                eq(map("d", 4L), m.fetchAll(u), "still");
            });

            test("grid/clear removes data and props", () -> {
                String u = newId.get();
                m.saveAll(u, map("a", 1, "b", 2));
                m.saveProp(u, "name", "Ada");
                m.clear(u);
                check(m.fetchAll(u).isEmpty(), "data gone");
                check(m.getUserProps(u).isEmpty(), "props gone");
                eq(0L, r.call("EXISTS", u), "session gone");
                m.save(u, "a", 1);
                m.clear(u, List.of());
                eq(0L, r.call("EXISTS", u), "empty retain = whole clear");
                m.clear(prefix + "nobody");
            });

            test("grid/clear with retain keeps exact names and the props", () -> {
                String u = newId.get();
                m.saveAll(u, map("stage", 1, "stage2", 2, "stag", 3, "Stage", 4, "auth", 5, "x", 6));
                m.saveProp(u, "name", "Ada");
                m.clear(u, List.of("stage", "auth", "absent"));
                eq(map("stage", 1L, "auth", 5L), m.fetchAll(u), "retained");
                eq(map("name", "Ada"), m.getUserProps(u), "props kept");
            });

            test("grid/keyInSession", () -> {
                String u = newId.get();
                String g = prefix + "g:flag";
                m.save(u, "stage", "A");
                m.save(u, "nothing", null);
                check(m.keyInSession(u, "stage", false), "data key");
                check(m.keyInSession(u, "nothing", false), "null value is present");
                check(!m.keyInSession(u, "absent", false), "absent");
                check(!m.keyInSession(u, "stage", true), "not a global");
                m.saveGlobal(g, false);
                check(m.keyInSession(u, g, true), "global");
                check(!m.keyInSession(u, g, false), "global is not in the session");
                m.evictGlobal(g);
                check(!m.keyInSession(u, g, true), "evicted global");
            });

            test("grid/props", () -> {
                String u = newId.get();
                check(m.getUserProps(u).isEmpty(), "no props");
                check(m.getFromProps(u, "name") == null, "missing prop");
                m.saveProp(u, "name", "Ada");
                m.saveProp(u, "age", "36");
                m.saveProp(u, "address", map("city", "Harare"));
                eq("Ada", m.getFromProps(u, "name"), "prop");
                eq(36, m.getFromProps(u, "age", Integer.class), "typed prop");
                eq(map("city", "Harare"), m.getFromProps(u, "address", Map.class), "map prop");
                eq(map("name", "Ada", "age", "36", "address", map("city", "Harare")), m.getUserProps(u), "all");
                m.getUserProps(u).put("mutable", true);
                check(m.evictProp(u, "age"), "evicted");
                check(!m.evictProp(u, "age"), "already gone");
                check(!m.evictProp(prefix + "nobody", "age"), "missing session");
                m.save(u, "name", "data");
                eq("data", m.get(u, "name"), "data and props are separate");
                eq("Ada", m.getFromProps(u, "name"), "prop untouched");
            });

            test("grid/globals, and null user means globals", () -> {
                String k = prefix + "g:config";
                check(m.getGlobal(k, Map.class) == null, "missing");
                m.saveGlobal(k, map("open", true, "hours", List.of(8, 17)));
                eq(map("open", true, "hours", List.of(8L, 17L)), m.getGlobal(k, Map.class), "global");
                eq(map("open", true, "hours", List.of(8L, 17L)), m.get(null, k), "get(null, key)");
                m.save(null, prefix + "g:n", "5");
                eq(5, m.getGlobal(prefix + "g:n", Integer.class), "typed global");
                check(m.fetchAll(null).containsKey(k), "fetchAll(null) lists globals");
                m.evictGlobal(k);
                m.evict(null, prefix + "g:n");
                check(m.getGlobal(k, Object.class) == null && m.get(null, prefix + "g:n") == null, "evicted");
            });

            test("grid/globals are their own namespace", () -> {
                String u = newId.get();
                String k = prefix + "shared";
                m.save(u, k, "session");
                m.save("global", k, "session");
                try {
                    m.saveGlobal(k, "global");
                    eq("global", m.getGlobal(k, String.class), "global");
                    eq("session", m.get(u, k), "session");
                    m.clear("global");
                    eq("global", m.getGlobal(k, String.class), "clear of session 'global' leaves globals");
                    m.evictGlobal(k);
                    eq("session", m.get(u, k), "evictGlobal leaves sessions");
                } finally {
                    m.clear("global");
                    m.evictGlobal(k);
                }
            });

            test("grid/errors from the node carry their code", () -> {
                String u = newId.get();
                r.call("SET", u, "plain");
                eq("WRONGTYPE", raises(RespException.class, () -> m.save(u, "k", 1)).code(), "wrong type");
                eq("plain".getBytes(StandardCharsets.UTF_8), r.call("GET", u), "string untouched");
                eq("INVALIDID", raises(RespException.class, () -> m.save("", "k", 1)).code(), "empty id");
                eq("INVALIDKEY", raises(RespException.class, () -> m.saveProp(newId.get(), "", 1)).code(), "empty key");
                raises(NullPointerException.class, () -> m.save(u, null, 1));
            });

            if (cfg.password != null) {
                test("grid/auth: a missing or wrong password is refused", () -> {
                    RespClient.Config none = RespClient.Config.of(cfg.host, cfg.port);
                    try (GridSessionManager m2 = new GridSessionManager(none)) {
                        eq("NOAUTH", raises(RespException.class, () -> m2.save(newId.get(), "k", 1)).code(), "no password");
                    }
                    try (GridSessionManager m2 = new GridSessionManager(cfg.host, cfg.port, cfg.password + "-wrong")) {
                        eq("WRONGPASS", raises(RespException.class, () -> m2.save(newId.get(), "k", 1)).code(), "wrong");
                    }
                });
            }

            test("grid/concurrent saveProp of distinct props all survive", () -> {
                String u = newId.get();
                int per = 25;
                parallel(8, i -> {
                    for (int j = 0; j < per; j++) {
                        m.saveProp(u, "p" + i + "-" + j, List.of(i, j));
                    }
                });
                Map<String, Object> props = m.getUserProps(u);
                eq(8 * per, props.size(), "props");
                eq(List.of(7L, 24L), props.get("p7-24"), "one of them");
            });

            test("grid/concurrent save of distinct keys all survive (pool of 2)", () -> {
                RespClient.Config small = RespClient.Config.of(cfg.host, cfg.port);
                small.password = cfg.password;
                small.maxConnections = 2;
                try (GridSessionManager m2 = new GridSessionManager(small)) {
                    String u = newId.get();
                    int per = 40;
                    parallel(8, i -> {
                        for (int j = 0; j < per; j++) {
                            m2.save(u, "k" + i + "-" + j, i * 1000 + j);
                        }
                    });
                    Map<String, Object> all = m.fetchAll(u);
                    eq(8 * per, all.size(), "keys");
                    eq(7039L, all.get("k7-39"), "one of them");
                }
            });

            test("grid/saveAll and evictAll are never seen half done", () -> {
                String u = newId.get();
                AtomicBoolean stop = new AtomicBoolean();
                List<Map<String, Object>> torn = new CopyOnWriteArrayList<>();
                parallel(6, i -> {
                    if (i == 0) {
                        for (int n = 0; n < 150; n++) {
                            m.saveAll(u, map("a", n, "b", n, "c", n));
                        }
                        stop.set(true);
                    } else if (i == 1) {
                        while (!stop.get()) {
                            m.evictAll(u, List.of("a", "b", "c"));
                        }
                    } else {
                        while (!stop.get()) {
                            Map<String, Object> d = m.fetchAll(u);
                            if (new HashSet<>(Arrays.asList(d.get("a"), d.get("b"), d.get("c"))).size() != 1) {
                                torn.add(d);
                            }
                        }
                    }
                });
                check(torn.isEmpty(), "a reader saw a partial write: " + (torn.isEmpty() ? "" : torn.get(0)));
            });

            test("grid/retained clear under concurrent saveProp never loses a prop", () -> {
                String u = newId.get();
                int per = 60;
                parallel(8, i -> {
                    for (int j = 0; j < per; j++) {
                        if (i % 2 == 0) {
                            m.saveAll(u, map("d" + i + "-" + j, j, "keep", j));
                            m.clear(u, List.of("keep"));
                        } else {
                            m.saveProp(u, "p" + i + "-" + j, j);
                        }
                    }
                });
                eq(4 * per, m.getUserProps(u).size(), "props");
                eq(Set.of("keep"), m.fetchAll(u).keySet(), "data left");
            });

            test("grid/idle session expires", () -> {
                String u = newId.get();
                m.saveAll(u, map("stage", "A"));
                m.saveProp(u, "name", "Ada");
                check(m.setExpiry(u, Duration.ofMillis(400), null), "expiry set");
                Duration left = m.ttl(u);
                check(left != null && !left.isNegative() && left.toMillis() <= 400, "ttl " + left);
                waitUntil(() -> Long.valueOf(0).equals(r.call("EXISTS", u)), 15_000, "the idle session to expire");
                check(m.fetchAll(u).isEmpty() && m.getUserProps(u).isEmpty(), "all gone");
                check(m.ttl(u) == null, "no ttl");
                check(!m.setExpiry(u, Duration.ofSeconds(1), null), "no session to set");
            });

            test("grid/absolute TTL is not extended by writes", () -> {
                String u = newId.get();
                m.save(u, "marker", true);
                check(m.setExpiry(u, null, Duration.ofMillis(600)), "ttl set");
                long start = System.nanoTime();
                waitUntil(() -> {
                    m.save(u, "tick", System.nanoTime());
                    return m.get(u, "marker") == null;
                }, 15_000, "the deadline to end the session despite writes");
                check(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(500), "ended too early");
                // The loop's last tick may have landed just before the end,
                // so the session may be gone: a write starts a new one.
                m.save(u, "again", true);
                check(m.setExpiry(u, Duration.ZERO, null), "idle disabled on the new session");
                eq(Duration.ofMillis(-1), m.ttl(u), "idle disabled");
            });

            String interop = System.getenv("GRIDNODE_INTEROP_PREFIX");
            if (interop != null && !interop.isEmpty()) {
                String readList = System.getenv().getOrDefault("GRIDNODE_INTEROP_READ", "go");
                for (String lang : readList.split(",")) {
                    if (lang.isEmpty()) {
                        continue;
                    }
                    long n = lang.equals("go") ? 1 : lang.equals("py") ? 2 : 0;
                    test("interop/reads what " + lang + " wrote", () -> {
                        eq(interopData(), m.fetchAll(interop + lang), "data");
                        eq(interopProps(), m.getUserProps(interop + lang), "props");
                        eq(map("lang", lang, "n", n), m.getGlobal(interop + "g:" + lang, Map.class), "global");
                    });
                }
                test("interop/writes for Go", () -> {
                    String u = interop + "java";
                    m.clear(u);
                    m.saveAll(u, interopData());
                    interopProps().forEach((k, v) -> m.saveProp(u, k, v));
                    m.saveGlobal(interop + "g:java", map("lang", "java", "n", 3));
                    eq(interopData(), m.fetchAll(u), "read back");
                });
            }

            // Leave nothing behind on a shared node.
            Object keys = r.call("KEYS", prefix + "*");
            if (keys instanceof List<?> && !((List<?>) keys).isEmpty()) {
                List<Object> del = new ArrayList<>();
                del.add("DEL");
                del.addAll((List<?>) keys);
                r.call(del.toArray());
            }
        }
    }
}
