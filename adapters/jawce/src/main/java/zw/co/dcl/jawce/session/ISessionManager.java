package zw.co.dcl.jawce.session;

import java.util.List;
import java.util.Map;

/**
 * The session-manager contract of the jawce engine (artifact
 * {@code zw.co.dcl.jawce:jawce-session}), reproduced here so that the adapter
 * compiles and is tested without Maven. When jawce itself is on the class
 * path, build the adapter without this file: the signatures are the same.
 *
 * <p>A session is one user's conversation state (the user id is the
 * WhatsApp number); props are the answers the user gave to templates;
 * globals are shared by every user.
 */
public interface ISessionManager {

    /** Returns the manager bound to {@code user}: the same one every time. */
    ISessionManager session(String user);

    /** Stores {@code data} under {@code key} in the user's session. */
    void save(String user, String key, Object data);

    /** Returns the value under {@code key}, or null. */
    Object get(String user, String key);

    /** Returns every data key of the user's session. */
    Map<String, Object> fetchAll(String user);

    /** Removes {@code key} from the user's session. */
    void evict(String user, String key);

    /** Removes the user's whole session (globals are untouched). */
    void clear(String user);

    /** Stores every entry of {@code sessionData} in the user's session. */
    void saveAll(String user, Map<String, Object> sessionData);

    /** Removes every key in {@code keys} from the user's session. */
    void evictAll(String user, List<String> keys);

    /** Removes a global value. */
    void evictGlobal(String key);

    /** Removes every data key of the user's session not named in {@code retain}. */
    void clear(String user, List<String> retain);

    /** Removes one prop; true if it existed. */
    boolean evictProp(String user, String propKey);

    /** Returns one prop, or null. */
    Object getFromProps(String user, String propKey);

    /** Reports whether {@code key} is a global ({@code global}) or a key of the user's session. */
    boolean keyInSession(String user, String key, boolean global);

    /** Returns every prop of the user. */
    Map<String, Object> getUserProps(String user);

    /** Stores a global value, shared by every user. */
    void saveGlobal(String key, Object data);

    /** Stores one prop of the user. */
    void saveProp(String user, String key, Object data);

    /** Returns the value under {@code key} converted to {@code type}, or null. */
    <T> T get(String user, String key, Class<T> type);

    /** Returns a global value converted to {@code type}, or null. */
    <T> T getGlobal(String key, Class<T> type);

    /** Returns one prop converted to {@code propType}, or null. */
    <T> T getFromProps(String user, String propKey, Class<T> propType);
}
