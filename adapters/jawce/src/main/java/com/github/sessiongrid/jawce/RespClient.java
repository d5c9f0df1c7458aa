package com.github.sessiongrid.jawce;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A small, thread-safe RESP client with a connection pool. Each call borrows
 * a connection (opening one when none is idle, up to
 * {@link Config#maxConnections}), sends one command or one pipeline, reads
 * the replies and gives the connection back.
 *
 * <p>A connection that fails (I/O error, timeout, bytes that are not RESP)
 * is closed, never reused. When a connection taken from the pool turns out to
 * be dead before any reply byte arrived (the server closed it while idle),
 * the call is retried once on a new connection: every command the session
 * manager sends is idempotent, so the retry cannot apply a change twice.
 */
public final class RespClient implements Closeable {

    /** Connection settings. Fields may be set directly; defaults are sensible. */
    public static final class Config {
        /** Server host. */
        public String host = "127.0.0.1";
        /** Server port. */
        public int port = 6379;
        /** Username for AUTH (null: the password alone). */
        public String username;
        /** Password for AUTH (null: no AUTH). */
        public String password;
        /** Database for SELECT (0: no SELECT; gridnode has only 0). */
        public int db;
        /** Connect timeout. */
        public int connectTimeoutMillis = 5_000;
        /** Read timeout of one reply (0: none). */
        public int readTimeoutMillis = 10_000;
        /** Most connections open at once; callers beyond wait. */
        public int maxConnections = 16;
        /** How long a call waits for a free connection. */
        public long borrowTimeoutMillis = 10_000;
        /** CLIENT SETNAME on each connection (null: none). */
        public String clientName = "jawce-gridnode";

        /** Returns a Config for host:port. */
        public static Config of(String host, int port) {
            Config c = new Config();
            c.host = host;
            c.port = port;
            return c;
        }

        void validate() {
            if (host == null || host.isEmpty()) {
                throw new IllegalArgumentException("resp: empty host");
            }
            if (port <= 0 || port > 65535) {
                throw new IllegalArgumentException("resp: bad port " + port);
            }
            if (maxConnections <= 0) {
                throw new IllegalArgumentException("resp: maxConnections must be positive");
            }
            if (connectTimeoutMillis < 0 || readTimeoutMillis < 0 || borrowTimeoutMillis < 0) {
                throw new IllegalArgumentException("resp: negative timeout");
            }
        }
    }

    private final Config cfg;
    private final Semaphore permits;
    private final ConcurrentLinkedDeque<Conn> idle = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;

    /** Creates a client; connections are opened on first use. */
    public RespClient(Config cfg) {
        cfg.validate();
        Config c = new Config();
        c.host = cfg.host;
        c.port = cfg.port;
        c.username = cfg.username;
        c.password = cfg.password;
        c.db = cfg.db;
        c.connectTimeoutMillis = cfg.connectTimeoutMillis;
        c.readTimeoutMillis = cfg.readTimeoutMillis;
        c.maxConnections = cfg.maxConnections;
        c.borrowTimeoutMillis = cfg.borrowTimeoutMillis;
        c.clientName = cfg.clientName;
        this.cfg = c;
        this.permits = new Semaphore(c.maxConnections, true);
    }

    /**
     * Sends one command and returns its reply (see {@link RespProtocol} for
     * the types). Throws RespException for an error reply and
     * RespConnectionException when the server cannot be used.
     */
    public Object call(Object... args) {
        List<Object[]> one = new ArrayList<>(1);
        one.add(args);
        Object r = run(one).get(0);
        if (r instanceof RespException) {
            throw (RespException) r;
        }
        return r;
    }

    /**
     * Sends several commands in one write and returns their replies in
     * order; an error reply is returned in its slot as a RespException.
     */
    public List<Object> pipeline(List<Object[]> commands) {
        if (commands.isEmpty()) {
            return new ArrayList<>();
        }
        return run(commands);
    }

    private List<Object> run(List<Object[]> commands) {
        if (closed) {
            throw new IllegalStateException("resp: client closed");
        }
        try {
            if (!permits.tryAcquire(cfg.borrowTimeoutMillis, TimeUnit.MILLISECONDS)) {
                throw new RespConnectionException("resp: no connection free after "
                        + cfg.borrowTimeoutMillis + " ms (maxConnections " + cfg.maxConnections + ")", null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RespConnectionException("resp: interrupted waiting for a connection", e);
        }
        try {
            Conn c = idle.pollFirst();
            boolean reused = c != null;
            while (true) {
                if (c == null) {
                    c = dial();
                }
                try {
                    List<Object> out = c.exchange(commands);
                    if (closed) {
                        c.close();
                    } else {
                        idle.offerFirst(c);
                    }
                    return out;
                } catch (IOException e) {
                    c.close();
                    if (reused && !c.gotReplyBytes && !(e instanceof RespProtocol.ProtocolException)
                            && !(e instanceof java.net.SocketTimeoutException)) {
                        reused = false;
                        c = null;
                        continue;
                    }
                    throw new RespConnectionException("resp: " + cfg.host + ":" + cfg.port + ": " + e.getMessage(), e);
                }
            }
        } finally {
            permits.release();
        }
    }

    private Conn dial() {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.setKeepAlive(true);
            s.connect(new InetSocketAddress(cfg.host, cfg.port), cfg.connectTimeoutMillis);
            s.setSoTimeout(cfg.readTimeoutMillis);
            Conn c = new Conn(s);
            List<Object[]> hello = new ArrayList<>();
            if (cfg.password != null) {
                hello.add(cfg.username == null ? new Object[] {"AUTH", cfg.password}
                        : new Object[] {"AUTH", cfg.username, cfg.password});
            }
            if (cfg.db != 0) {
                hello.add(new Object[] {"SELECT", Integer.toString(cfg.db)});
            }
            if (cfg.clientName != null && !cfg.clientName.isEmpty()) {
                hello.add(new Object[] {"CLIENT", "SETNAME", cfg.clientName});
            }
            if (!hello.isEmpty()) {
                List<Object> rs = c.exchange(hello);
                for (int i = 0; i < rs.size(); i++) {
                    if (rs.get(i) instanceof RespException) {
                        String what = hello.get(i)[0].toString();
                        if (what.equals("CLIENT")) {
                            continue; // naming is a courtesy, not a requirement
                        }
                        c.close();
                        throw (RespException) rs.get(i);
                    }
                }
            }
            return c;
        } catch (IOException e) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already failing
            }
            throw new RespConnectionException("resp: connect " + cfg.host + ":" + cfg.port + ": " + e.getMessage(), e);
        }
    }

    /** Closes every idle connection; connections in use close when returned. Idempotent. */
    @Override
    public void close() {
        closed = true;
        Conn c;
        while ((c = idle.pollFirst()) != null) {
            c.close();
        }
    }

    /** One connection; used by one thread at a time (the pool guarantees it). */
    private static final class Conn {
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        /** Set once any reply byte of the current exchange was read. */
        boolean gotReplyBytes;

        Conn(Socket s) throws IOException {
            this.socket = s;
            this.in = new BufferedInputStream(s.getInputStream(), 16 << 10) {
                @Override
                public synchronized int read() throws IOException {
                    int b = super.read();
                    if (b >= 0) {
                        gotReplyBytes = true;
                    }
                    return b;
                }

                @Override
                public synchronized int read(byte[] buf, int off, int len) throws IOException {
                    int n = super.read(buf, off, len);
                    if (n > 0) {
                        gotReplyBytes = true;
                    }
                    return n;
                }
            };
            this.out = new BufferedOutputStream(s.getOutputStream(), 16 << 10);
        }

        List<Object> exchange(List<Object[]> commands) throws IOException {
            gotReplyBytes = false;
            for (Object[] cmd : commands) {
                RespProtocol.write(out, cmd);
            }
            out.flush();
            List<Object> replies = new ArrayList<>(commands.size());
            for (int i = 0; i < commands.size(); i++) {
                try {
                    replies.add(RespProtocol.read(in));
                } catch (RespException e) {
                    replies.add(e);
                }
            }
            return replies;
        }

        void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }
}
