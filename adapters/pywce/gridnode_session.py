"""A pywce session manager backed by a sessiongrid gridnode.

``GridSessionManager`` implements every method of pywce's ``ISessionManager``
over gridnode's RESP commands, using redis-py only. Each method is one round
trip and, on the server, one atomic operation on one session:

================================  ==========================================
method                            gridnode command
================================  ==========================================
save                              HSET id key value
save_all                          HSET id k1 v1 k2 v2 ...
get / key_in_session              HGET / HEXISTS
fetch_all                         HGETALL id (or GLOBAL.ALL when is_global)
evict / evict_all                 HDEL id key [key ...]
clear                             SESSION.CLEAR id [RETAIN key ...]
save_prop / get_from_props        SESSION.PROPSET / SESSION.PROPGET
get_user_props / evict_prop       SESSION.PROPS / SESSION.PROPDEL
save_global / get_global          GLOBAL.SET / GLOBAL.GET
evict_global                      GLOBAL.DEL
clear_global                      GLOBAL.KEYS, then GLOBAL.DEL per key
================================  ==========================================

Semantics are sessiongrid's contract, the same for the Go, Java and Python
clients:

* Values are JSON (``json.dumps`` / ``json.loads``), so a value saved here
  reads back identically from Go's ``session.Manager`` and from the jawce
  adapter. A value JSON cannot encode raises ``TypeError`` (pass
  ``json_default`` to convert such values yourself).
* Props (``save_prop`` and friends) live beside the session's data keys, not
  inside them: ``fetch_all`` never returns them, and ``clear`` with
  ``retain_keys`` keeps them while ``clear`` without keeps nothing.
* ``clear(session_id, retain_keys)`` keeps exactly the named data keys.
* Globals are a namespace of their own: no session id, not even ``"global"``,
  reads or overwrites them.
* Reads of a missing key, prop or global return ``None``; ``fetch_all`` and
  ``get_user_props`` of a missing session return ``{}``.

Sessions expire after the gridnode's idle timeout (30 minutes by default);
``set_expiry`` overrides it for one session.

Thread safety: one ``GridSessionManager`` may be shared by every thread of a
bot; redis-py's connection pool gives each concurrent call its own
connection.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterable, List, Optional, Type, TypeVar, Union

import redis

try:  # pywce >= 0.3 exports the interface at the top level.
    from pywce import ISessionManager as _Base  # type: ignore
except Exception:  # pragma: no cover - pywce is optional
    try:
        from pywce.modules.session import ISessionManager as _Base  # type: ignore
    except Exception:
        _Base = object  # type: ignore

__all__ = ["GridSessionManager", "GridSessionError", "T"]

T = TypeVar("T")

PROP_KEY = "pywce_prop_key"


class GridSessionError(ValueError):
    """A value read from the grid is not valid JSON (written by a client
    that does not follow the JSON convention)."""


class GridSessionManager(_Base):
    """pywce ``ISessionManager`` over a gridnode (or a grid of them).

    Connect with ``host``/``port``/``password``/``db`` (a pooled
    ``redis.Redis`` is created), or pass an existing ``client``; ``from_url``
    accepts a ``redis://`` URL. Extra keyword arguments go to ``redis.Redis``
    (e.g. ``socket_timeout``, ``max_connections``).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 6379,
        password: Optional[str] = None,
        db: int = 0,
        client: Optional[redis.Redis] = None,
        json_default: Optional[Callable[[Any], Any]] = None,
        **redis_kwargs: Any,
    ) -> None:
        if client is None:
            client = redis.Redis(host=host, port=port, password=password, db=db, **redis_kwargs)
        self._r = client
        self._json_default = json_default

    @classmethod
    def from_url(cls, url: str, json_default: Optional[Callable[[Any], Any]] = None,
                 **redis_kwargs: Any) -> "GridSessionManager":
        """Build a manager from a ``redis://[:password@]host:port/db`` URL."""
        return cls(client=redis.Redis.from_url(url, **redis_kwargs), json_default=json_default)

    @property
    def client(self) -> redis.Redis:
        """The redis-py client the manager sends its commands through."""
        return self._r

    def close(self) -> None:
        """Close the pooled connections."""
        self._r.close()

    # --- pywce ISessionManager -------------------------------------------------

    @property
    def prop_key(self) -> str:
        """The name pywce's own managers store a user's props under. The grid
        keeps props natively beside the data (SESSION.PROP*), so this is only
        a name: use save_prop / get_user_props to reach them."""
        return PROP_KEY

    def session(self, session_id: str) -> "GridSessionManager":
        """Return the manager for ``session_id``: the same object every time.
        Sessions are created on their first write, so this sends nothing."""
        _check_id(session_id)
        return self

    def save(self, session_id: str, key: str, data: Any) -> None:
        """Store ``data`` under ``key`` in the session (HSET)."""
        self._r.execute_command("HSET", session_id, key, self._encode(data))

    def save_all(self, session_id: str, data: Dict[str, Any]) -> None:
        """Store every entry of ``data`` in one atomic HSET."""
        if not data:
            return
        args: List[Any] = []
        for k, v in data.items():
            args.append(k)
            args.append(self._encode(v))
        self._r.execute_command("HSET", session_id, *args)

    def save_global(self, key: str, data: Any) -> None:
        """Store a global value, shared by every session (GLOBAL.SET)."""
        self._r.execute_command("GLOBAL.SET", key, self._encode(data))

    def save_prop(self, session_id: str, prop_key: str, data: Any) -> None:
        """Store one prop of the session (SESSION.PROPSET); concurrent
        save_prop calls of different props never lose one another."""
        self._r.execute_command("SESSION.PROPSET", session_id, prop_key, self._encode(data))

    def get(self, session_id: str, key: str, t: Type[T] = None) -> Union[Any, T]:
        """Return the value of ``key`` (None if missing), cast with ``t(value)``
        when ``t`` is given and the value is not None."""
        return _cast(self._decode(self._r.execute_command("HGET", session_id, key), key), t)

    def get_global(self, key: str, t: Type[T] = None) -> Union[Any, T]:
        """Return a global value (None if missing), cast with ``t`` if given."""
        return _cast(self._decode(self._r.execute_command("GLOBAL.GET", key), key), t)

    def get_from_props(self, session_id: str, prop_key: str, t: Type[T] = None) -> Union[Any, T]:
        """Return one prop (None if missing), cast with ``t`` if given."""
        raw = self._r.execute_command("SESSION.PROPGET", session_id, prop_key)
        return _cast(self._decode(raw, prop_key), t)

    def get_user_props(self, session_id: str) -> Dict[str, Any]:
        """Return every prop of the session ({} if none)."""
        return self._decode_map(self._r.execute_command("SESSION.PROPS", session_id))

    def fetch_all(self, session_id: str, is_global: bool = False) -> Dict[str, Any]:
        """Return every data key of the session (props excluded), or every
        global when ``is_global`` is true. {} when there is nothing."""
        if is_global:
            return self._decode_map(self._r.execute_command("GLOBAL.ALL"))
        return self._decode_map(self._r.execute_command("HGETALL", session_id))

    def evict(self, session_id: str, key: str) -> None:
        """Remove ``key`` from the session (HDEL); missing keys are fine."""
        self._r.execute_command("HDEL", session_id, key)

    def evict_all(self, session_id: str, keys: List[str]) -> None:
        """Remove every key in one atomic HDEL."""
        keys = list(keys or ())
        if not keys:
            return
        self._r.execute_command("HDEL", session_id, *keys)

    def evict_global(self, key: str) -> None:
        """Remove a global value (GLOBAL.DEL)."""
        self._r.execute_command("GLOBAL.DEL", key)

    def clear(self, session_id: str, retain_keys: List[str] = None) -> None:
        """Without ``retain_keys``: remove the whole session, data and props.
        With them: remove every data key not named exactly, keep the props.
        One atomic SESSION.CLEAR either way."""
        retain = list(retain_keys or ())
        if not retain:
            self._r.execute_command("SESSION.CLEAR", session_id)
            return
        self._r.execute_command("SESSION.CLEAR", session_id, "RETAIN", *retain)

    def clear_global(self) -> None:
        """Remove every global. Two round trips (GLOBAL.KEYS, then one
        pipelined GLOBAL.DEL per key): a global written concurrently may
        survive."""
        keys = self._r.execute_command("GLOBAL.KEYS") or []
        if not keys:
            return
        pipe = self._r.pipeline(transaction=False)
        for k in keys:
            pipe.execute_command("GLOBAL.DEL", k)
        pipe.execute()

    def evict_prop(self, session_id: str, prop_key: str) -> bool:
        """Remove one prop; True if it existed (SESSION.PROPDEL)."""
        return bool(self._r.execute_command("SESSION.PROPDEL", session_id, prop_key))

    def key_in_session(self, session_id: str, key: str, check_global: bool = True) -> bool:
        """With ``check_global`` (pywce's default) report whether ``key`` is a
        global; otherwise whether it is a data key of the session."""
        if check_global:
            return self._r.execute_command("GLOBAL.GET", key) is not None
        return bool(self._r.execute_command("HEXISTS", session_id, key))

    # --- grid extras -----------------------------------------------------------

    def set_expiry(self, session_id: str, idle_seconds: Optional[float] = None,
                   ttl_seconds: Optional[float] = None) -> bool:
        """Override the session's expiry (SESSION.EXPIRY): ``idle_seconds``
        None keeps the current idle timeout, 0 or less disables it;
        ``ttl_seconds`` sets an absolute lifetime (None: none). Returns False
        when the session does not exist."""
        if idle_seconds is None:
            idle_ms = 0
        elif idle_seconds <= 0:
            idle_ms = -1
        else:
            idle_ms = max(1, int(idle_seconds * 1000))
        ttl_ms = 0 if not ttl_seconds or ttl_seconds <= 0 else max(1, int(ttl_seconds * 1000))
        return bool(self._r.execute_command("SESSION.EXPIRY", session_id, idle_ms, ttl_ms))

    def ttl(self, session_id: str) -> Optional[float]:
        """Seconds left before the session expires; -1.0 if it never does,
        None if it does not exist (PTTL)."""
        ms = self._r.execute_command("PTTL", session_id)
        if ms == -2:
            return None
        if ms == -1:
            return -1.0
        return ms / 1000.0

    # --- encoding --------------------------------------------------------------

    def _encode(self, data: Any) -> bytes:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False,
                          default=self._json_default).encode("utf-8")

    @staticmethod
    def _decode(raw: Optional[bytes], key: Any) -> Any:
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError as e:
            raise GridSessionError(f"value of {_text(key)!r} is not JSON: {e}") from e

    def _decode_map(self, reply: Any) -> Dict[str, Any]:
        if not reply:
            return {}
        if isinstance(reply, dict):
            items: Iterable = reply.items()
        else:
            if len(reply) % 2:
                raise GridSessionError(f"odd-length map reply ({len(reply)} elements)")
            items = zip(reply[0::2], reply[1::2])
        out: Dict[str, Any] = {}
        for k, v in items:
            name = _text(k)
            out[name] = self._decode(v, name)
        return out


def _text(b: Any) -> str:
    if isinstance(b, (bytes, bytearray)):
        return bytes(b).decode("utf-8", errors="surrogateescape")
    return str(b)


def _check_id(session_id: Any) -> None:
    if not isinstance(session_id, str) or session_id == "":
        raise ValueError("session id must be a non-empty string")


def _cast(value: Any, t: Any) -> Any:
    if value is None or t is None:
        return value
    if isinstance(t, type) and type(value) is t:
        return value
    return t(value)
