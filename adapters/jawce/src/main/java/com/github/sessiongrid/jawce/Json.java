package com.github.sessiongrid.jawce;

import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The JSON codec of the grid's values (RFC 8259), in plain Java so that the
 * adapter needs nothing beyond the JDK. Python's {@code json} and Go's
 * {@code encoding/json} read what it writes and the reverse.
 *
 * <p>Encoding accepts null, String, Character, Boolean, Number, Enum (its
 * name), UUID and java.time values (their ISO-8601 text), Map (keys as
 * text), Iterable, arrays, Optional and records (as objects of their
 * components). Anything else is an {@link IllegalArgumentException}.
 *
 * <p>Decoding gives {@link LinkedHashMap}, {@link ArrayList}, String,
 * Boolean, null, and for numbers Long (integers that fit), BigInteger
 * (larger integers) or Double (anything with a fraction or exponent).
 *
 * <p>All methods are static and thread-safe.
 */
public final class Json {
    /** Nesting deeper than this is refused on decoding (and encoding). */
    public static final int MAX_DEPTH = 512;

    private Json() {
    }

    // ---------------------------------------------------------------- encoding

    /** Returns the compact JSON text of {@code value}. */
    public static String encode(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.toString();
    }

    /** Returns the UTF-8 bytes of {@link #encode(Object)}. */
    public static byte[] encodeBytes(Object value) {
        return encode(value).getBytes(StandardCharsets.UTF_8);
    }

    private static void write(StringBuilder sb, Object v, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("json: value nested deeper than " + MAX_DEPTH + " (a cycle?)");
        }
        if (v == null) {
            sb.append("null");
        } else if (v instanceof CharSequence || v instanceof Character) {
            writeString(sb, v.toString());
        } else if (v instanceof Boolean) {
            sb.append(((Boolean) v).booleanValue() ? "true" : "false");
        } else if (v instanceof Number) {
            writeNumber(sb, (Number) v);
        } else if (v instanceof Enum<?>) {
            writeString(sb, ((Enum<?>) v).name());
        } else if (v instanceof UUID || v instanceof TemporalAccessor) {
            writeString(sb, v.toString());
        } else if (v instanceof Optional<?>) {
            write(sb, ((Optional<?>) v).orElse(null), depth);
        } else if (v instanceof Map<?, ?>) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (e.getKey() == null) {
                    throw new IllegalArgumentException("json: map with a null key");
                }
                if (!first) {
                    sb.append(',');
                }
                first = false;
                Object k = e.getKey();
                writeString(sb, k instanceof Enum<?> ? ((Enum<?>) k).name() : k.toString());
                sb.append(':');
                write(sb, e.getValue(), depth + 1);
            }
            sb.append('}');
        } else if (v instanceof Iterable<?>) {
            sb.append('[');
            boolean first = true;
            for (Object o : (Iterable<?>) v) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                write(sb, o, depth + 1);
            }
            sb.append(']');
        } else if (v.getClass().isArray()) {
            if (v instanceof byte[]) {
                throw new IllegalArgumentException("json: byte[] has no JSON form; encode it (e.g. Base64) first");
            }
            int n = Array.getLength(v);
            sb.append('[');
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                write(sb, Array.get(v, i), depth + 1);
            }
            sb.append(']');
        } else if (v.getClass().isRecord()) {
            sb.append('{');
            boolean first = true;
            for (RecordComponent c : v.getClass().getRecordComponents()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                writeString(sb, c.getName());
                sb.append(':');
                Object cv;
                try {
                    c.getAccessor().setAccessible(true);
                    cv = c.getAccessor().invoke(v);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new IllegalArgumentException("json: cannot read record component " + c.getName() + ": " + e, e);
                }
                write(sb, cv, depth + 1);
            }
            sb.append('}');
        } else {
            throw new IllegalArgumentException("json: cannot encode " + v.getClass().getName()
                    + " (use Map, List, String, Number, Boolean, null or a record)");
        }
    }

    private static void writeNumber(StringBuilder sb, Number n) {
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new IllegalArgumentException("json: " + d + " has no JSON form");
            }
            if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                // 42.0 -> "42.0" would read back as a float everywhere: keep
                // the fraction so the type survives, but write no exponent.
                sb.append(BigDecimal.valueOf(d).setScale(1).toPlainString());
            } else {
                sb.append(n instanceof Float ? Float.toString(n.floatValue()) : Double.toString(d));
            }
        } else if (n instanceof BigDecimal) {
            sb.append(((BigDecimal) n).toString());
        } else if (n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte
                || n instanceof BigInteger) {
            sb.append(n.toString());
        } else {
            // AtomicInteger, LongAdder, ...: integral when their double is.
            double d = n.doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new IllegalArgumentException("json: " + d + " has no JSON form");
            }
            sb.append(d == Math.rint(d) ? Long.toString(n.longValue()) : Double.toString(d));
        }
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private static void writeString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029'
                            || (Character.isSurrogate(c) && !validSurrogateAt(s, i))) {
                        // Lone surrogates cannot be UTF-8: escape them so the
                        // bytes stay valid (readers decide what to make of them).
                        sb.append("\\u").append(HEX[c >> 12 & 15]).append(HEX[c >> 8 & 15])
                                .append(HEX[c >> 4 & 15]).append(HEX[c & 15]);
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    private static boolean validSurrogateAt(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    // ---------------------------------------------------------------- decoding

    /** Decodes one JSON value from UTF-8 bytes. */
    public static Object decode(byte[] utf8) {
        return decode(new String(utf8, StandardCharsets.UTF_8));
    }

    /** Decodes one JSON value; anything but whitespace after it is an error. */
    public static Object decode(String text) {
        Parser p = new Parser(text);
        p.skipWs();
        Object v = p.value(0);
        p.skipWs();
        if (p.pos != text.length()) {
            throw p.error("unexpected data after the value");
        }
        return v;
    }

    /** Thrown for text that is not JSON. */
    public static final class JsonException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        /** Position of the error in the text (UTF-16 index). */
        public final int position;

        JsonException(String msg, int position) {
            super("json: " + msg + " at offset " + position);
            this.position = position;
        }
    }

    private static final class Parser {
        final String s;
        int pos;

        Parser(String s) {
            this.s = s;
        }

        JsonException error(String msg) {
            return new JsonException(msg, pos);
        }

        void skipWs() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    break;
                }
            }
        }

        Object value(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("nested deeper than " + MAX_DEPTH);
            }
            if (pos >= s.length()) {
                throw error("unexpected end of input");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{':
                    return object(depth);
                case '[':
                    return array(depth);
                case '"':
                    return string();
                case 't':
                    literal("true");
                    return Boolean.TRUE;
                case 'f':
                    literal("false");
                    return Boolean.FALSE;
                case 'n':
                    literal("null");
                    return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw error("unexpected character '" + printable(c) + "'");
            }
        }

        void literal(String word) {
            if (!s.startsWith(word, pos)) {
                throw error("invalid literal");
            }
            pos += word.length();
        }

        Map<String, Object> object(int depth) {
            pos++; // {
            Map<String, Object> m = new LinkedHashMap<>();
            skipWs();
            if (pos < s.length() && s.charAt(pos) == '}') {
                pos++;
                return m;
            }
            while (true) {
                skipWs();
                if (pos >= s.length() || s.charAt(pos) != '"') {
                    throw error("expected a string key");
                }
                String k = string();
                skipWs();
                if (pos >= s.length() || s.charAt(pos) != ':') {
                    throw error("expected ':'");
                }
                pos++;
                skipWs();
                m.put(k, value(depth + 1));
                skipWs();
                if (pos >= s.length()) {
                    throw error("unterminated object");
                }
                char c = s.charAt(pos++);
                if (c == '}') {
                    return m;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}'");
                }
            }
        }

        List<Object> array(int depth) {
            pos++; // [
            List<Object> l = new ArrayList<>();
            skipWs();
            if (pos < s.length() && s.charAt(pos) == ']') {
                pos++;
                return l;
            }
            while (true) {
                skipWs();
                l.add(value(depth + 1));
                skipWs();
                if (pos >= s.length()) {
                    throw error("unterminated array");
                }
                char c = s.charAt(pos++);
                if (c == ']') {
                    return l;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or ']'");
                }
            }
        }

        String string() {
            pos++; // opening quote
            StringBuilder sb = null;
            int start = pos;
            while (true) {
                if (pos >= s.length()) {
                    throw error("unterminated string");
                }
                char c = s.charAt(pos);
                if (c == '"') {
                    String out = sb == null ? s.substring(start, pos) : sb.append(s, start, pos).toString();
                    pos++;
                    return out;
                }
                if (c < 0x20) {
                    throw error("control character in string");
                }
                if (c != '\\') {
                    pos++;
                    continue;
                }
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(s, start, pos);
                pos++;
                if (pos >= s.length()) {
                    throw error("unterminated escape");
                }
                char e = s.charAt(pos++);
                switch (e) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (pos + 4 > s.length()) {
                            throw error("short \\u escape");
                        }
                        int cp = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = Character.digit(s.charAt(pos + i), 16);
                            if (d < 0) {
                                throw error("bad \\u escape");
                            }
                            cp = cp << 4 | d;
                        }
                        pos += 4;
                        sb.append((char) cp);
                    }
                    default -> {
                        pos--;
                        throw error("bad escape '\\" + printable(e) + "'");
                    }
                }
                start = pos;
            }
        }

        Number number() {
            int start = pos;
            if (s.charAt(pos) == '-') {
                pos++;
            }
            if (pos >= s.length()) {
                throw error("bad number");
            }
            if (s.charAt(pos) == '0') {
                pos++;
            } else if (s.charAt(pos) >= '1' && s.charAt(pos) <= '9') {
                while (pos < s.length() && isDigit(s.charAt(pos))) {
                    pos++;
                }
            } else {
                throw error("bad number");
            }
            boolean integral = true;
            if (pos < s.length() && s.charAt(pos) == '.') {
                integral = false;
                pos++;
                int digits = pos;
                while (pos < s.length() && isDigit(s.charAt(pos))) {
                    pos++;
                }
                if (pos == digits) {
                    throw error("bad fraction");
                }
            }
            if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                integral = false;
                pos++;
                if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                    pos++;
                }
                int digits = pos;
                while (pos < s.length() && isDigit(s.charAt(pos))) {
                    pos++;
                }
                if (pos == digits) {
                    throw error("bad exponent");
                }
            }
            String t = s.substring(start, pos);
            if (integral) {
                if (t.length() <= 18) {
                    return Long.parseLong(t);
                }
                BigInteger b = new BigInteger(t);
                return b.bitLength() < 64 ? (Number) b.longValue() : b;
            }
            double d = Double.parseDouble(t);
            if (Double.isInfinite(d)) {
                throw new JsonException("number out of range", start);
            }
            return d;
        }

        static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        static String printable(char c) {
            return c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c);
        }
    }

    // ---------------------------------------------------------------- typed views

    /**
     * Converts a decoded value to {@code type}, as jawce's typed getters do:
     * null stays null; a value that already is a {@code type} is returned;
     * numbers convert between Integer, Long, Short, Byte, Double, Float,
     * BigInteger and BigDecimal when no precision is lost; numeric and boolean
     * text converts to numbers and Boolean; scalars convert to String; text
     * converts to an Enum by name; a Map converts to a record through its
     * canonical constructor. Anything else is an IllegalArgumentException.
     */
    @SuppressWarnings("unchecked")
    public static <T> T convert(Object value, Class<T> type) {
        if (type == null) {
            throw new IllegalArgumentException("json: null target type");
        }
        Class<?> boxed = box(type);
        if (value == null) {
            if (type.isPrimitive()) {
                throw new IllegalArgumentException("json: null cannot be a " + type.getName());
            }
            return null;
        }
        if (boxed.isInstance(value)) {
            return (T) value;
        }
        return (T) convertTo(value, boxed);
    }

    private static boolean isNumberClass(Class<?> c) {
        return Number.class.isAssignableFrom(c);
    }

    private static Object convertTo(Object value, Class<?> type) {
        if (type == String.class) {
            if (value instanceof String || value instanceof Number || value instanceof Boolean
                    || value instanceof Character) {
                return value.toString();
            }
            throw cannot(value, type);
        }
        if (isNumberClass(type)) {
            BigDecimal exact;
            if (value instanceof Number) {
                exact = toBigDecimal((Number) value);
            } else if (value instanceof String) {
                try {
                    exact = new BigDecimal(((String) value).trim());
                } catch (NumberFormatException e) {
                    throw cannot(value, type);
                }
            } else {
                throw cannot(value, type);
            }
            return fromBigDecimal(exact, type, value);
        }
        if (type == Boolean.class) {
            if (value instanceof String) {
                String t = ((String) value).trim();
                if (t.equalsIgnoreCase("true")) {
                    return Boolean.TRUE;
                }
                if (t.equalsIgnoreCase("false")) {
                    return Boolean.FALSE;
                }
            }
            throw cannot(value, type);
        }
        if (type == Character.class && value instanceof String && ((String) value).length() == 1) {
            return ((String) value).charAt(0);
        }
        if (type.isEnum() && value instanceof String) {
            for (Object c : type.getEnumConstants()) {
                if (((Enum<?>) c).name().equals(value)) {
                    return c;
                }
            }
            throw cannot(value, type);
        }
        if (type == UUID.class && value instanceof String) {
            try {
                return UUID.fromString((String) value);
            } catch (IllegalArgumentException e) {
                throw cannot(value, type);
            }
        }
        if ((type == List.class || type == Collection.class || type == Iterable.class) && value instanceof Collection<?>) {
            return new ArrayList<>((Collection<?>) value);
        }
        if (type.isRecord() && value instanceof Map<?, ?>) {
            return toRecord((Map<?, ?>) value, type);
        }
        throw cannot(value, type);
    }

    private static BigDecimal toBigDecimal(Number n) {
        if (n instanceof BigDecimal) {
            return (BigDecimal) n;
        }
        if (n instanceof BigInteger) {
            return new BigDecimal((BigInteger) n);
        }
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new IllegalArgumentException("json: " + d + " is not a finite number");
            }
            return new BigDecimal(Double.toString(d));
        }
        return BigDecimal.valueOf(n.longValue());
    }

    private static Object fromBigDecimal(BigDecimal x, Class<?> type, Object original) {
        try {
            if (type == Integer.class) {
                return x.intValueExact();
            }
            if (type == Long.class) {
                return x.longValueExact();
            }
            if (type == Short.class) {
                return x.shortValueExact();
            }
            if (type == Byte.class) {
                return x.byteValueExact();
            }
            if (type == BigInteger.class) {
                return x.toBigIntegerExact();
            }
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("json: " + original + " does not fit a " + type.getSimpleName(), e);
        }
        if (type == Double.class) {
            return x.doubleValue();
        }
        if (type == Float.class) {
            return x.floatValue();
        }
        if (type == BigDecimal.class) {
            return x;
        }
        if (type == Number.class) {
            return original instanceof Number ? original : x;
        }
        throw cannot(original, type);
    }

    private static Object toRecord(Map<?, ?> m, Class<?> type) {
        RecordComponent[] comps = type.getRecordComponents();
        Class<?>[] types = new Class<?>[comps.length];
        Object[] args = new Object[comps.length];
        for (int i = 0; i < comps.length; i++) {
            types[i] = comps[i].getType();
            Object v = m.get(comps[i].getName());
            if (v == null && types[i].isPrimitive()) {
                throw new IllegalArgumentException("json: record " + type.getSimpleName() + " needs "
                        + comps[i].getName());
            }
            args[i] = convert(v, types[i]);
        }
        try {
            Constructor<?> c = type.getDeclaredConstructor(types);
            c.setAccessible(true);
            return c.newInstance(args);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalArgumentException("json: cannot build " + type.getName() + ": " + e, e);
        }
    }

    private static IllegalArgumentException cannot(Object value, Class<?> type) {
        String shown = String.valueOf(value);
        if (shown.length() > 60) {
            shown = shown.substring(0, 60) + "...";
        }
        return new IllegalArgumentException("json: cannot convert " + value.getClass().getSimpleName() + " "
                + shown + " to " + type.getName());
    }

    private static Class<?> box(Class<?> c) {
        if (!c.isPrimitive()) {
            return c;
        }
        if (c == int.class) {
            return Integer.class;
        }
        if (c == long.class) {
            return Long.class;
        }
        if (c == double.class) {
            return Double.class;
        }
        if (c == boolean.class) {
            return Boolean.class;
        }
        if (c == float.class) {
            return Float.class;
        }
        if (c == short.class) {
            return Short.class;
        }
        if (c == byte.class) {
            return Byte.class;
        }
        if (c == char.class) {
            return Character.class;
        }
        throw new IllegalArgumentException("json: cannot convert to " + c);
    }
}
