package com.github.sessiongrid.jawce;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import zw.co.dcl.jawce.session.ISessionManager;

/**
 * jawce's {@link ISessionManager} over a sessiongrid gridnode (or a grid of
 * them), through gridnode's RESP commands. Every method is one round trip
 * and one atomic operation on the server:
 *
 * <pre>
 * save / saveAll          HSET user key value [key value ...]
 * get / keyInSession      HGET / HEXISTS
 * fetchAll                HGETALL user
 * evict / evictAll        HDEL user key [key ...]
 * clear / clear(retain)   SESSION.CLEAR user [RETAIN key ...]
 * saveProp / getFromProps SESSION.PROPSET / SESSION.PROPGET
 * getUserProps / evictProp SESSION.PROPS / SESSION.PROPDEL
 * saveGlobal / getGlobal  GLOBAL.SET / GLOBAL.GET
 * evictGlobal             GLOBAL.DEL
 * </pre>
 *
 * <p>Semantics, the same for the Go, Python and Java clients of the grid:
 * values are JSON ({@link Json}), so pywce bots and Go services read what a
 * jawce bot writes; props live beside the data (fetchAll never returns them;
 * {@code clear(user, retain)} keeps them and exactly the named data keys;
 * {@code clear(user)} removes everything); globals are a namespace of their
 * own. Reads of something missing return null; {@code fetchAll} and
 * {@code getUserProps} of a missing session return an empty map. As in
 * jawce's own Redis and Hazelcast managers, a null user means the globals.
 *
 * <p>Typed getters convert with {@link Json#convert}: String, Integer, Long,
 * Double, Boolean (and the other boxed numbers), Map, List, enums and records.
 *
 * <p>Thread-safe: one instance serves every thread of a bot.
 */
public final class GridSessionManager implements ISessionManager, AutoCloseable {
    private final RespClient client;
    private final boolean ownsClient;

    /** A manager over gridnode at host:port (no password). */
    public GridSessionManager(String host, int port) {
        this(RespClient.Config.of(host, port));
    }

    /** A manager over gridnode at host:port with a password (null: none). */
    public GridSessionManager(String host, int port, String password) {
        this(withPassword(RespClient.Config.of(host, port), password));
    }

    /** A manager with its own pooled client built from cfg. */
    public GridSessionManager(RespClient.Config cfg) {
        this.client = new RespClient(cfg);
        this.ownsClient = true;
    }

    /** A manager over an existing client, which the caller keeps and closes. */
    public GridSessionManager(RespClient client) {
        this.client = Objects.requireNonNull(client, "client");
        this.ownsClient = false;
    }

    private static RespClient.Config withPassword(RespClient.Config c, String password) {
        c.password = password;
        return c;
    }

    /** The RESP client the manager sends its commands through. */
    public RespClient client() {
        return client;
    }

    /** Closes the connections when the manager created its client. */
    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }

    // ------------------------------------------------------------ ISessionManager

    @Override
    public ISessionManager session(String user) {
        return this; // sessions are created by their first write
    }

    @Override
    public void save(String user, String key, Object data) {
        if (user == null) {
            saveGlobal(key, data);
            return;
        }
        client.call("HSET", user, key(key), Json.encodeBytes(data));
    }

    @Override
    public void saveAll(String user, Map<String, Object> sessionData) {
        if (sessionData == null || sessionData.isEmpty()) {
            return;
        }
        if (user == null) {
            List<Object[]> cmds = new ArrayList<>(sessionData.size());
            sessionData.forEach((k, v) -> cmds.add(new Object[] {"GLOBAL.SET", key(k), Json.encodeBytes(v)}));
            for (Object r : client.pipeline(cmds)) {
                if (r instanceof RespException) {
                    throw (RespException) r;
                }
            }
            return;
        }
        Object[] args = new Object[2 + 2 * sessionData.size()];
        args[0] = "HSET";
        args[1] = user;
        int i = 2;
        for (Map.Entry<String, Object> e : sessionData.entrySet()) {
            args[i++] = key(e.getKey());
            args[i++] = Json.encodeBytes(e.getValue());
        }
        client.call(args);
    }

    @Override
    public Object get(String user, String key) {
        if (user == null) {
            return decode(client.call("GLOBAL.GET", key(key)), key);
        }
        return decode(client.call("HGET", user, key(key)), key);
    }

    @Override
    public <T> T get(String user, String key, Class<T> type) {
        return Json.convert(get(user, key), type);
    }

    @Override
    public Map<String, Object> fetchAll(String user) {
        if (user == null) {
            return decodeMap(client.call("GLOBAL.ALL"));
        }
        return decodeMap(client.call("HGETALL", user));
    }

    @Override
    public void evict(String user, String key) {
        if (user == null) {
            evictGlobal(key);
            return;
        }
        client.call("HDEL", user, key(key));
    }

    @Override
    public void evictAll(String user, List<String> keys) {
        if (keys == null || keys.isEmpty()) {
            return;
        }
        if (user == null) {
            List<Object[]> cmds = new ArrayList<>(keys.size());
            for (String k : keys) {
                cmds.add(new Object[] {"GLOBAL.DEL", key(k)});
            }
            client.pipeline(cmds);
            return;
        }
        Object[] args = new Object[2 + keys.size()];
        args[0] = "HDEL";
        args[1] = user;
        for (int i = 0; i < keys.size(); i++) {
            args[2 + i] = key(keys.get(i));
        }
        client.call(args);
    }

    @Override
    public void clear(String user) {
        client.call("SESSION.CLEAR", Objects.requireNonNull(user, "user"));
    }

    @Override
    public void clear(String user, List<String> retain) {
        Objects.requireNonNull(user, "user");
        if (retain == null || retain.isEmpty()) {
            clear(user);
            return;
        }
        Object[] args = new Object[3 + retain.size()];
        args[0] = "SESSION.CLEAR";
        args[1] = user;
        args[2] = "RETAIN";
        for (int i = 0; i < retain.size(); i++) {
            args[3 + i] = key(retain.get(i));
        }
        client.call(args);
    }

    @Override
    public boolean keyInSession(String user, String key, boolean global) {
        if (global || user == null) {
            return client.call("GLOBAL.GET", key(key)) != null;
        }
        return Long.valueOf(1).equals(client.call("HEXISTS", user, key(key)));
    }

    @Override
    public void saveProp(String user, String key, Object data) {
        client.call("SESSION.PROPSET", Objects.requireNonNull(user, "user"), key(key), Json.encodeBytes(data));
    }

    @Override
    public Object getFromProps(String user, String propKey) {
        return decode(client.call("SESSION.PROPGET", Objects.requireNonNull(user, "user"), key(propKey)), propKey);
    }

    @Override
    public <T> T getFromProps(String user, String propKey, Class<T> propType) {
        return Json.convert(getFromProps(user, propKey), propType);
    }

    @Override
    public Map<String, Object> getUserProps(String user) {
        return decodeMap(client.call("SESSION.PROPS", Objects.requireNonNull(user, "user")));
    }

    @Override
    public boolean evictProp(String user, String propKey) {
        return Long.valueOf(1).equals(client.call("SESSION.PROPDEL", Objects.requireNonNull(user, "user"), key(propKey)));
    }

    @Override
    public void saveGlobal(String key, Object data) {
        client.call("GLOBAL.SET", key(key), Json.encodeBytes(data));
    }

    @Override
    public <T> T getGlobal(String key, Class<T> type) {
        return Json.convert(decode(client.call("GLOBAL.GET", key(key)), key), type);
    }

    @Override
    public void evictGlobal(String key) {
        client.call("GLOBAL.DEL", key(key));
    }

    // ------------------------------------------------------------ grid extras

    /**
     * Overrides the expiry of an existing session (SESSION.EXPIRY): idle null
     * keeps the current idle timeout, zero or negative disables it; ttl null
     * or non-positive sets no absolute deadline. False if the session does
     * not exist.
     */
    public boolean setExpiry(String user, Duration idle, Duration ttl) {
        long idleMs = idle == null ? 0 : (idle.isZero() || idle.isNegative() ? -1 : Math.max(1, idle.toMillis()));
        long ttlMs = ttl == null || ttl.isZero() || ttl.isNegative() ? 0 : Math.max(1, ttl.toMillis());
        return Long.valueOf(1).equals(client.call("SESSION.EXPIRY", Objects.requireNonNull(user, "user"),
                Long.toString(idleMs), Long.toString(ttlMs)));
    }

    /**
     * Time left before the session expires (PTTL): null if it does not exist,
     * a negative duration if it never expires.
     */
    public Duration ttl(String user) {
        long ms = (Long) client.call("PTTL", Objects.requireNonNull(user, "user"));
        if (ms == -2) {
            return null;
        }
        return ms == -1 ? Duration.ofMillis(-1) : Duration.ofMillis(ms);
    }

    /** Removes every global (GLOBAL.KEYS, then one pipelined GLOBAL.DEL per key; not atomic). */
    public void clearGlobal() {
        Object keys = client.call("GLOBAL.KEYS");
        if (!(keys instanceof List<?>) || ((List<?>) keys).isEmpty()) {
            return;
        }
        List<Object[]> cmds = new ArrayList<>();
        for (Object k : (List<?>) keys) {
            cmds.add(new Object[] {"GLOBAL.DEL", k});
        }
        client.pipeline(cmds);
    }

    // ------------------------------------------------------------ decoding

    private static String key(String key) {
        return Objects.requireNonNull(key, "key");
    }

    private static Object decode(Object reply, Object key) {
        if (reply == null) {
            return null;
        }
        if (!(reply instanceof byte[])) {
            throw new IllegalStateException("gridnode: expected a bulk string for '" + key + "', got "
                    + reply.getClass().getSimpleName());
        }
        try {
            return Json.decode((byte[]) reply);
        } catch (Json.JsonException e) {
            throw new IllegalArgumentException("gridnode: value of '" + key + "' is not JSON: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> decodeMap(Object reply) {
        Map<String, Object> out = new HashMap<>();
        if (reply == null) {
            return out;
        }
        if (reply instanceof Map<?, ?>) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) reply).entrySet()) {
                String k = text(e.getKey());
                out.put(k, decode(e.getValue(), k));
            }
            return out;
        }
        List<?> l = (List<?>) reply;
        if (l.size() % 2 != 0) {
            throw new IllegalStateException("gridnode: odd-length map reply (" + l.size() + " elements)");
        }
        for (int i = 0; i < l.size(); i += 2) {
            String k = text(l.get(i));
            out.put(k, decode(l.get(i + 1), k));
        }
        return out;
    }

    private static String text(Object o) {
        return o instanceof byte[] ? new String((byte[]) o, StandardCharsets.UTF_8) : String.valueOf(o);
    }
}
