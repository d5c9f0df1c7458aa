package com.github.sessiongrid.jawce;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * RESP framing: writes commands as arrays of bulk strings and reads replies
 * (RESP2, plus the RESP3 types a server may send). Stateless; the streams
 * belong to the caller.
 *
 * <p>Reply mapping: simple string to String, integer to Long, bulk string to
 * byte[] (null for the null bulk), array to {@code List<Object>} (null for the
 * null array), error to a {@link RespException} (thrown by {@link #read} for a
 * top-level error, left in place inside arrays). RESP3: null to null, boolean
 * to Boolean, double to Double, big number to BigInteger, map to a
 * LinkedHashMap, set and push to List, verbatim string to byte[].
 */
public final class RespProtocol {
    /** The largest bulk string accepted (gridnode's default request limit). */
    public static final int MAX_BULK = 512 << 20;
    /** The largest aggregate accepted. */
    public static final int MAX_ELEMENTS = 64 << 20;
    /** The longest line (type byte excluded) accepted. */
    public static final int MAX_LINE = 64 << 10;
    /** Aggregates nested deeper than this are refused. */
    public static final int MAX_DEPTH = 64;

    private RespProtocol() {
    }

    /** Thrown for bytes that are not RESP. */
    public static final class ProtocolException extends IOException {
        private static final long serialVersionUID = 1L;

        ProtocolException(String msg) {
            super("resp: " + msg);
        }
    }

    /**
     * Writes one command. Each argument is a byte[] (sent as is), a String
     * (UTF-8), or anything else (its toString(), e.g. numbers).
     */
    public static void write(OutputStream out, Object... args) throws IOException {
        out.write(('*' + Integer.toString(args.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (Object a : args) {
            if (a == null) {
                throw new IllegalArgumentException("resp: null command argument");
            }
            byte[] b = a instanceof byte[] ? (byte[]) a : a.toString().getBytes(StandardCharsets.UTF_8);
            out.write(('$' + Integer.toString(b.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(b);
            out.write('\r');
            out.write('\n');
        }
    }

    /** Reads one reply; an error reply is thrown as a RespException. */
    public static Object read(InputStream in) throws IOException {
        Object v = value(in, 0);
        if (v instanceof RespException) {
            throw (RespException) v;
        }
        return v;
    }

    private static Object value(InputStream in, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw new ProtocolException("reply nested deeper than " + MAX_DEPTH);
        }
        int type = in.read();
        if (type < 0) {
            throw new EOFException("resp: connection closed by the server");
        }
        switch (type) {
            case '+':
                return line(in);
            case '-':
                return new RespException(line(in));
            case ':':
                return parseLong(line(in));
            case '$': {
                long n = parseLong(line(in));
                if (n == -1) {
                    return null;
                }
                return bulk(in, n);
            }
            case '*':
            case '~':
            case '>': {
                long n = parseLong(line(in));
                if (n == -1) {
                    return null;
                }
                checkCount(n);
                List<Object> l = new ArrayList<>((int) Math.min(n, 1024));
                for (long i = 0; i < n; i++) {
                    l.add(value(in, depth + 1));
                }
                return l;
            }
            case '%': {
                long n = parseLong(line(in));
                checkCount(n);
                Map<Object, Object> m = new LinkedHashMap<>();
                for (long i = 0; i < n; i++) {
                    Object k = value(in, depth + 1);
                    m.put(k instanceof byte[] ? new String((byte[]) k, StandardCharsets.UTF_8) : k,
                            value(in, depth + 1));
                }
                return m;
            }
            case '_':
                line(in);
                return null;
            case '#': {
                String t = line(in);
                if (t.equals("t")) {
                    return Boolean.TRUE;
                }
                if (t.equals("f")) {
                    return Boolean.FALSE;
                }
                throw new ProtocolException("bad boolean '" + t + "'");
            }
            case ',': {
                String t = line(in);
                switch (t) {
                    case "inf":
                        return Double.POSITIVE_INFINITY;
                    case "-inf":
                        return Double.NEGATIVE_INFINITY;
                    case "nan":
                        return Double.NaN;
                    default:
                        try {
                            return Double.parseDouble(t);
                        } catch (NumberFormatException e) {
                            throw new ProtocolException("bad double '" + t + "'");
                        }
                }
            }
            case '(': {
                String t = line(in);
                try {
                    return new BigInteger(t);
                } catch (NumberFormatException e) {
                    throw new ProtocolException("bad big number '" + t + "'");
                }
            }
            case '=':
            case '!': {
                long n = parseLong(line(in));
                byte[] b = bulk(in, n);
                return type == '!' ? new RespException(new String(b, StandardCharsets.UTF_8)) : b;
            }
            default:
                throw new ProtocolException(String.format("unexpected reply type byte 0x%02x", type));
        }
    }

    private static void checkCount(long n) throws ProtocolException {
        if (n < 0 || n > MAX_ELEMENTS) {
            throw new ProtocolException("bad aggregate length " + n);
        }
    }

    private static byte[] bulk(InputStream in, long n) throws IOException {
        if (n < 0 || n > MAX_BULK) {
            throw new ProtocolException("bad bulk length " + n);
        }
        byte[] b = in.readNBytes((int) n);
        if (b.length != n) {
            throw new EOFException("resp: connection closed inside a bulk string");
        }
        int cr = in.read();
        int lf = in.read();
        if (cr != '\r' || lf != '\n') {
            throw new ProtocolException("bulk string not terminated by CRLF");
        }
        return b;
    }

    private static String line(InputStream in) throws IOException {
        byte[] buf = null;
        int n = 0;
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("resp: connection closed inside a reply");
            }
            if (c == '\r') {
                int lf = in.read();
                if (lf != '\n') {
                    throw new ProtocolException("CR not followed by LF");
                }
                break;
            }
            if (c == '\n') {
                throw new ProtocolException("LF without CR");
            }
            if (n >= MAX_LINE) {
                throw new ProtocolException("line longer than " + MAX_LINE + " bytes");
            }
            if (buf == null) {
                buf = new byte[64];
            } else if (n == buf.length) {
                buf = java.util.Arrays.copyOf(buf, n * 2);
            }
            buf[n++] = (byte) c;
        }
        return n == 0 ? "" : new String(buf, 0, n, StandardCharsets.UTF_8);
    }

    private static long parseLong(String s) throws ProtocolException {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new ProtocolException("bad integer '" + s + "'");
        }
    }
}
