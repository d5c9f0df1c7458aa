"""Tests of GridSessionManager against a real gridnode.

Run (from this directory), with a gridnode listening at GRIDNODE_ADDR:

    GRIDNODE_ADDR=127.0.0.1:6379 /usr/bin/python3 -m unittest -v test_gridnode_session

Optional: GRIDNODE_PASSWORD (when the node requires AUTH) and
GRIDNODE_INTEROP_PREFIX (set by adapters/adapters_test.go: the tests then read
the session the Go harness wrote under PREFIX+"go" and write PREFIX+"py" for
the Go and Java tests to check).

Every test uses session ids under a random prefix, so the node may be shared.
"""

from __future__ import annotations

import inspect
import json
import os
import threading
import time
import unittest
import uuid

import redis

from gridnode_session import GridSessionError, GridSessionManager

ADDR = os.environ.get("GRIDNODE_ADDR", "")
PASSWORD = os.environ.get("GRIDNODE_PASSWORD") or None
INTEROP = os.environ.get("GRIDNODE_INTEROP_PREFIX", "")

# pywce's ISessionManager (pywce/modules/session/__init__.py): every abstract
# method with its parameter names and defaults, and the prop_key property.
PYWCE_METHODS = {
    "session": [("session_id", None)],
    "save": [("session_id", None), ("key", None), ("data", None)],
    "save_all": [("session_id", None), ("data", None)],
    "save_global": [("key", None), ("data", None)],
    "save_prop": [("session_id", None), ("prop_key", None), ("data", None)],
    "get": [("session_id", None), ("key", None), ("t", "None")],
    "get_global": [("key", None), ("t", "None")],
    "get_from_props": [("session_id", None), ("prop_key", None), ("t", "None")],
    "get_user_props": [("session_id", None)],
    "fetch_all": [("session_id", None), ("is_global", "any")],
    "evict": [("session_id", None), ("key", None)],
    "evict_all": [("session_id", None), ("keys", None)],
    "evict_global": [("key", None)],
    "clear": [("session_id", None), ("retain_keys", "None")],
    "clear_global": [],
    "evict_prop": [("session_id", None), ("prop_key", None)],
    "key_in_session": [("session_id", None), ("key", None), ("check_global", True)],
}

# The cross-language data set: the same literal values are in
# adapters_test.go and in the jawce test.
INTEROP_DATA = {
    "stage": "MENU-1",
    "count": 42,
    "ratio": 1.5,
    "ok": True,
    "none": None,
    "history": ["wamid.1", "wamid.2"],
    "auth": {"token": "t-1", "exp": 1700000000, "roles": ["user"]},
    "text": "h\u00e9llo \u2713 <&> \"q\" \\ \n\t\u00e0\U0001F600",
}
INTEROP_PROPS = {"name": "Ada", "age": 36}


def setUpModule():
    global HOST, PORT
    if not ADDR:
        raise RuntimeError("GRIDNODE_ADDR is not set: start a gridnode and set GRIDNODE_ADDR=host:port "
                           "(adapters/adapters_test.go does both)")
    host, _, port = ADDR.rpartition(":")
    HOST, PORT = host or "127.0.0.1", int(port)


def new_manager(**kw) -> GridSessionManager:
    return GridSessionManager(host=HOST, port=PORT, password=PASSWORD, socket_timeout=10, **kw)


def wait_until(cond, timeout=15.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class GridTestCase(unittest.TestCase):
    def setUp(self):
        self.m = new_manager()
        self.r = self.m.client
        self.prefix = f"pywce-test:{uuid.uuid4().hex[:10]}:"
        self.sid = self.prefix + "263771000001"

    def tearDown(self):
        keys = self.r.keys(self.prefix + "*")
        if keys:
            self.r.delete(*keys)
        self.m.close()

    def gkey(self, name):
        return self.prefix + "g:" + name


class TestInterface(unittest.TestCase):
    def test_every_pywce_method_with_its_parameters(self):
        for name, params in PYWCE_METHODS.items():
            with self.subTest(method=name):
                fn = getattr(GridSessionManager, name, None)
                self.assertTrue(callable(fn), f"{name} missing")
                sig = inspect.signature(fn)
                got = [p for p in sig.parameters.values() if p.name != "self"]
                self.assertEqual([p.name for p in got], [n for n, _ in params])
                for p, (_, default) in zip(got, params):
                    if default is None:
                        self.assertIs(p.default, inspect.Parameter.empty, f"{name}({p.name}) must be required")
                    elif default == "None":
                        self.assertIsNone(p.default, f"{name}({p.name}) must default to None")
                    elif default == "any":
                        pass
                    else:
                        self.assertEqual(p.default, default, f"{name}({p.name})")

    def test_prop_key_is_a_property(self):
        self.assertIsInstance(inspect.getattr_static(GridSessionManager, "prop_key"), property)
        self.assertEqual(GridSessionManager(client=redis.Redis()).prop_key, "pywce_prop_key")

    def test_nothing_abstract_left(self):
        # When pywce is importable the class must be instantiable as its
        # ISessionManager; without pywce it still must not be abstract.
        self.assertFalse(getattr(GridSessionManager, "__abstractmethods__", frozenset()))


class TestData(GridTestCase):
    def test_session_returns_the_same_manager(self):
        self.assertIs(self.m.session(self.sid), self.m)
        self.assertIs(self.m.session(session_id=self.sid), self.m.session(self.sid))
        with self.assertRaises(ValueError):
            self.m.session("")

    def test_save_get_round_trips_json_values(self):
        for key, value in INTEROP_DATA.items():
            self.m.save(session_id=self.sid, key=key, data=value)
        for key, value in INTEROP_DATA.items():
            with self.subTest(key=key):
                self.assertEqual(self.m.get(session_id=self.sid, key=key), value)
        self.assertIsNone(self.m.get(self.sid, "missing"))
        self.assertIsNone(self.m.get(self.prefix + "nobody", "stage"))

    def test_values_are_compact_json_on_the_wire(self):
        self.m.save(self.sid, "obj", {"a": 1, "b": [True, None]})
        self.m.save(self.sid, "s", "x\u00e9")
        self.assertEqual(self.r.hget(self.sid, "obj"), b'{"a":1,"b":[true,null]}')
        self.assertEqual(self.r.hget(self.sid, "s"), '"x\u00e9"'.encode())
        # What Go's encoding/json writes (HTML characters escaped) reads back.
        self.r.hset(self.sid, "go", b'{"t":"\\u003c\\u0026\\u003e","n":1e3,"f":-0.25}')
        self.assertEqual(self.m.get(self.sid, "go"), {"t": "<&>", "n": 1000.0, "f": -0.25})

    def test_non_json_value_is_a_clear_error(self):
        self.r.hset(self.sid, "raw", b"not json")
        with self.assertRaises(GridSessionError) as cm:
            self.m.get(self.sid, "raw")
        self.assertIn("raw", str(cm.exception))
        with self.assertRaises(TypeError):
            self.m.save(self.sid, "bad", object())
        self.assertIsNone(self.m.get(self.sid, "bad"))

    def test_json_default_converts_unencodable_values(self):
        m = new_manager(json_default=lambda o: sorted(o) if isinstance(o, set) else str(o))
        try:
            m.save(self.sid, "set", {3, 1, 2})
            self.assertEqual(m.get(self.sid, "set"), [1, 2, 3])
        finally:
            m.close()

    def test_get_with_type_cast(self):
        self.m.save(self.sid, "n", "42")
        self.m.save(self.sid, "i", 7)
        self.m.save(self.sid, "l", ["a"])
        self.assertEqual(self.m.get(self.sid, "n", int), 42)
        self.assertEqual(self.m.get(self.sid, "i", t=str), "7")
        self.assertEqual(self.m.get(self.sid, "i", float), 7.0)
        self.assertEqual(self.m.get(self.sid, "l", tuple), ("a",))
        self.assertIsNone(self.m.get(self.sid, "missing", int))
        with self.assertRaises(TypeError):
            self.m.get(self.sid, "l", int)

    def test_save_all_is_one_hset(self):
        self.m.save(self.sid, "keep", 1)
        self.m.save_all(session_id=self.sid, data={"a": 1, "b": "two", "keep": 3})
        self.assertEqual(self.m.fetch_all(self.sid), {"a": 1, "b": "two", "keep": 3})
        self.m.save_all(self.sid, {})
        self.assertEqual(len(self.m.fetch_all(self.sid)), 3)

    def test_fetch_all_excludes_props_and_globals(self):
        self.assertEqual(self.m.fetch_all(self.sid), {})
        self.assertEqual(self.m.fetch_all(self.sid, is_global=False), {})
        self.m.save(self.sid, "stage", "A")
        self.m.save_prop(self.sid, "name", "Ada")
        self.m.save_global(self.gkey("x"), 1)
        self.assertEqual(self.m.fetch_all(self.sid), {"stage": "A"})
        globals_ = self.m.fetch_all(self.sid, is_global=True)
        self.assertEqual(globals_[self.gkey("x")], 1)
        self.assertNotIn("stage", globals_)
        self.m.evict_global(self.gkey("x"))

    def test_evict_and_evict_all(self):
        self.m.save_all(self.sid, {"a": 1, "b": 2, "c": 3, "d": 4})
        self.m.evict(session_id=self.sid, key="a")
        self.m.evict(self.sid, "missing")
        self.assertEqual(self.m.fetch_all(self.sid), {"b": 2, "c": 3, "d": 4})
        self.m.evict_all(session_id=self.sid, keys=["b", "c", "missing"])
        self.assertEqual(self.m.fetch_all(self.sid), {"d": 4})
        self.m.evict_all(self.sid, [])
        self.assertEqual(self.m.fetch_all(self.sid), {"d": 4})
        self.m.evict_all(self.prefix + "nobody", ["x"])

    def test_clear_without_retain_removes_data_and_props(self):
        self.m.save_all(self.sid, {"a": 1, "b": 2})
        self.m.save_prop(self.sid, "name", "Ada")
        self.m.clear(session_id=self.sid)
        self.assertEqual(self.m.fetch_all(self.sid), {})
        self.assertEqual(self.m.get_user_props(self.sid), {})
        self.assertEqual(self.r.exists(self.sid), 0)
        # An empty retain list is the same as none.
        self.m.save(self.sid, "a", 1)
        self.m.save_prop(self.sid, "p", 1)
        self.m.clear(self.sid, retain_keys=[])
        self.assertEqual(self.r.exists(self.sid), 0)
        self.m.clear(self.prefix + "nobody")

    def test_clear_with_retain_keeps_exact_names_and_props(self):
        self.m.save_all(self.sid, {"stage": 1, "stage2": 2, "stag": 3, "Stage": 4, "auth": 5, "x": 6})
        self.m.save_prop(self.sid, "name", "Ada")
        self.m.save_prop(self.sid, "stage", "prop")
        self.m.clear(self.sid, retain_keys=["stage", "auth", "absent"])
        self.assertEqual(self.m.fetch_all(self.sid), {"stage": 1, "auth": 5})
        self.assertEqual(self.m.get_user_props(self.sid), {"name": "Ada", "stage": "prop"})
        self.m.clear(self.sid, ["absent"])
        self.assertEqual(self.m.fetch_all(self.sid), {})
        self.assertEqual(self.m.get_user_props(self.sid), {"name": "Ada", "stage": "prop"})

    def test_key_in_session(self):
        self.m.save(self.sid, "stage", "A")
        self.m.save(self.sid, "nothing", None)
        self.assertTrue(self.m.key_in_session(session_id=self.sid, key="stage", check_global=False))
        self.assertTrue(self.m.key_in_session(self.sid, "nothing", False))
        self.assertFalse(self.m.key_in_session(self.sid, "absent", check_global=False))
        # check_global defaults to True, as in pywce: only globals count then.
        self.assertFalse(self.m.key_in_session(self.sid, "stage"))
        self.m.save_global(self.gkey("flag"), False)
        self.assertTrue(self.m.key_in_session(self.sid, self.gkey("flag")))
        self.assertFalse(self.m.key_in_session(self.sid, self.gkey("flag"), check_global=False))
        self.m.evict_global(self.gkey("flag"))
        self.assertFalse(self.m.key_in_session(self.sid, self.gkey("flag")))

    def test_a_string_key_is_the_wrong_type(self):
        self.r.set(self.sid, "plain")
        with self.assertRaises(redis.ResponseError) as cm:
            self.m.save(self.sid, "k", 1)
        self.assertTrue(str(cm.exception).startswith("WRONGTYPE"), str(cm.exception))
        self.assertEqual(self.r.get(self.sid), b"plain")

    def test_empty_ids_and_keys_are_refused_by_the_node(self):
        with self.assertRaises(redis.ResponseError) as cm:
            self.m.save("", "k", 1)
        self.assertTrue(str(cm.exception).startswith("INVALIDID"), str(cm.exception))
        with self.assertRaises(redis.ResponseError) as cm:
            self.m.save_prop(self.sid, "", 1)
        self.assertTrue(str(cm.exception).startswith("INVALIDKEY"), str(cm.exception))

    def test_ttl_and_default_idle(self):
        self.assertIsNone(self.m.ttl(self.sid))
        self.m.save(self.sid, "a", 1)
        left = self.m.ttl(self.sid)
        self.assertTrue(left == -1.0 or 0 < left <= 24 * 3600, left)
        self.assertTrue(self.m.set_expiry(self.sid, idle_seconds=0))
        self.assertEqual(self.m.ttl(self.sid), -1.0)
        self.assertFalse(self.m.set_expiry(self.prefix + "nobody", idle_seconds=5))


class TestProps(GridTestCase):
    def test_props(self):
        self.assertEqual(self.m.get_user_props(session_id=self.sid), {})
        self.assertIsNone(self.m.get_from_props(self.sid, "name"))
        self.m.save_prop(session_id=self.sid, prop_key="name", data="Ada")
        self.m.save_prop(self.sid, "age", "36")
        self.m.save_prop(self.sid, "address", {"city": "Harare", "lines": ["1 Main"]})
        self.assertEqual(self.m.get_from_props(session_id=self.sid, prop_key="name"), "Ada")
        self.assertEqual(self.m.get_from_props(self.sid, "age", int), 36)
        self.assertEqual(self.m.get_from_props(self.sid, "address", t=dict)["city"], "Harare")
        self.assertEqual(self.m.get_user_props(self.sid),
                         {"name": "Ada", "age": "36", "address": {"city": "Harare", "lines": ["1 Main"]}})
        self.assertTrue(self.m.evict_prop(session_id=self.sid, prop_key="age"))
        self.assertFalse(self.m.evict_prop(self.sid, "age"))
        self.assertFalse(self.m.evict_prop(self.prefix + "nobody", "age"))
        self.assertEqual(set(self.m.get_user_props(self.sid)), {"name", "address"})

    def test_props_and_data_are_separate(self):
        self.m.save(self.sid, "name", "data")
        self.m.save_prop(self.sid, "name", "prop")
        self.assertEqual(self.m.get(self.sid, "name"), "data")
        self.assertEqual(self.m.get_from_props(self.sid, "name"), "prop")
        self.m.evict(self.sid, "name")
        self.assertEqual(self.m.get_from_props(self.sid, "name"), "prop")
        self.assertEqual(self.m.fetch_all(self.sid), {})
        # A session holding only props still exists.
        self.assertEqual(self.r.exists(self.sid), 1)
        self.assertNotIn(self.m.prop_key, self.m.fetch_all(self.sid))


class TestGlobals(GridTestCase):
    def test_globals(self):
        k = self.gkey("config")
        self.assertIsNone(self.m.get_global(k))
        self.m.save_global(key=k, data={"open": True, "hours": [8, 17]})
        self.assertEqual(self.m.get_global(key=k), {"open": True, "hours": [8, 17]})
        self.m.save_global(self.gkey("n"), "5")
        self.assertEqual(self.m.get_global(self.gkey("n"), t=int), 5)
        self.assertEqual(self.m.get_global(self.gkey("n"), int), 5)
        self.m.evict_global(key=k)
        self.assertIsNone(self.m.get_global(k))
        self.m.evict_global(k)  # missing: fine
        self.m.evict_global(self.gkey("n"))

    def test_globals_are_their_own_namespace(self):
        for sid in ("global", self.prefix + "global", self.sid):
            self.m.save(sid, "shared", "session")
        try:
            self.m.save_global("shared", "global")
            self.assertEqual(self.m.get_global("shared"), "global")
            self.assertEqual(self.m.get(self.sid, "shared"), "session")
            self.assertEqual(self.m.get("global", "shared"), "session")
            self.m.clear("global")
            self.assertEqual(self.m.get_global("shared"), "global")
            self.m.evict_global("shared")
            self.assertEqual(self.m.get(self.sid, "shared"), "session")
        finally:
            self.m.clear("global")
            self.m.evict_global("shared")

    def test_clear_global(self):
        # Other tenants of the node may keep globals: snapshot and restore them.
        before = {k: v for k, v in self.m.fetch_all("", is_global=True).items()}
        try:
            for i in range(5):
                self.m.save_global(self.gkey(str(i)), i)
            self.m.save(self.sid, "data", 1)
            self.m.clear_global()
            self.assertEqual(self.m.fetch_all(self.sid, is_global=True), {})
            self.assertEqual(self.m.get(self.sid, "data"), 1)
            self.m.clear_global()  # nothing left: fine
        finally:
            for k, v in before.items():
                self.m.save_global(k, v)


class TestConstruction(GridTestCase):
    def test_client_and_url(self):
        shared = redis.Redis(host=HOST, port=PORT, password=PASSWORD)
        try:
            a = GridSessionManager(client=shared)
            self.assertIs(a.client, shared)
            a.save(self.sid, "via", "client")
        finally:
            shared.close()
        auth = f":{PASSWORD}@" if PASSWORD else ""
        b = GridSessionManager.from_url(f"redis://{auth}{HOST}:{PORT}/0")
        try:
            self.assertEqual(b.get(self.sid, "via"), "client")
        finally:
            b.close()

    @unittest.skipUnless(PASSWORD, "the node has no password (GRIDNODE_PASSWORD not set)")
    def test_missing_or_wrong_password_is_refused(self):
        m = GridSessionManager(host=HOST, port=PORT)
        try:
            with self.assertRaises(redis.AuthenticationError) as cm:  # NOAUTH
                m.save(self.sid, "k", 1)
            self.assertIn("Authentication required", str(cm.exception))
        finally:
            m.close()
        m = GridSessionManager(host=HOST, port=PORT, password=PASSWORD + "-wrong")
        try:
            # redis-py 4.3 reports WRONGPASS as a plain ResponseError, newer
            # versions as an AuthenticationError.
            with self.assertRaises((redis.AuthenticationError, redis.ResponseError)) as cm:
                m.save(self.sid, "k", 1)
            self.assertIn("WRONGPASS", str(cm.exception))
        finally:
            m.close()
        self.assertIsNone(self.m.get(self.sid, "k"))

    def test_unreachable_node_raises_connection_error(self):
        m = GridSessionManager(host="127.0.0.1", port=1, socket_connect_timeout=2)
        with self.assertRaises(redis.ConnectionError):
            m.save(self.sid, "k", 1)


class TestConcurrency(GridTestCase):
    THREADS = 8

    def run_threads(self, fn):
        barrier = threading.Barrier(self.THREADS)
        errors = []

        def worker(i):
            try:
                barrier.wait()
                fn(i)
            except BaseException as e:  # reported by the test
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
            self.assertFalse(t.is_alive(), "worker did not finish")
        if errors:
            raise errors[0]

    def test_concurrent_save_prop_of_distinct_props_all_survive(self):
        per = 25
        self.run_threads(lambda i: [self.m.save_prop(self.sid, f"p{i}-{j}", [i, j]) for j in range(per)])
        props = self.m.get_user_props(self.sid)
        self.assertEqual(len(props), self.THREADS * per)
        for i in range(self.THREADS):
            for j in range(per):
                self.assertEqual(props[f"p{i}-{j}"], [i, j])

    def test_concurrent_save_of_distinct_keys_all_survive(self):
        per = 40
        self.run_threads(lambda i: [self.m.save(self.sid, f"k{i}-{j}", i * 1000 + j) for j in range(per)])
        data = self.m.fetch_all(self.sid)
        self.assertEqual(len(data), self.THREADS * per)
        self.assertEqual(data["k7-39"], 7039)

    def test_save_all_is_never_seen_half_done(self):
        rounds = 150
        stop = threading.Event()
        torn = []

        def work(i):
            if i == 0:
                for n in range(rounds):
                    self.m.save_all(self.sid, {"a": n, "b": n, "c": n})
                stop.set()
            elif i == 1:
                for n in range(rounds):
                    self.m.evict_all(self.sid, ["a", "b", "c"])
                    self.m.save_all(self.sid, {"a": -n, "b": -n, "c": -n})
            else:
                while not stop.is_set():
                    d = self.m.fetch_all(self.sid)
                    vals = {d.get("a"), d.get("b"), d.get("c")}
                    if len(vals) != 1:
                        torn.append(d)

        self.run_threads(work)
        self.assertEqual(torn[:3], [], "a reader saw a partial save_all/evict_all")

    def test_retained_clear_never_loses_props(self):
        per = 60

        def work(i):
            for j in range(per):
                if i % 2 == 0:
                    self.m.save_all(self.sid, {f"d{i}-{j}": j, "keep": j})
                    self.m.clear(self.sid, retain_keys=["keep"])
                else:
                    self.m.save_prop(self.sid, f"p{i}-{j}", j)

        self.run_threads(work)
        props = self.m.get_user_props(self.sid)
        self.assertEqual(len(props), (self.THREADS // 2) * per)
        # Every writer's last step is a retained clear: only "keep" is left.
        self.assertEqual(set(self.m.fetch_all(self.sid)), {"keep"})


class TestExpiry(GridTestCase):
    def test_idle_session_expires(self):
        self.m.save_all(self.sid, {"stage": "A", "n": 1})
        self.m.save_prop(self.sid, "name", "Ada")
        self.assertTrue(self.m.set_expiry(self.sid, idle_seconds=0.4))
        left = self.m.ttl(self.sid)
        self.assertIsNotNone(left)
        self.assertTrue(0 < left <= 0.4, left)
        wait_until(lambda: self.r.exists(self.sid) == 0, what="the idle session to expire")
        self.assertEqual(self.m.fetch_all(self.sid), {})
        self.assertEqual(self.m.get_user_props(self.sid), {})
        self.assertIsNone(self.m.get(self.sid, "stage"))
        self.assertIsNone(self.m.ttl(self.sid))

    def test_absolute_ttl_is_not_extended_by_writes(self):
        self.m.save(self.sid, "marker", True)
        self.assertTrue(self.m.set_expiry(self.sid, ttl_seconds=0.6))
        start = time.monotonic()

        def tick():
            self.m.save(self.sid, "tick", time.monotonic())
            return self.m.get(self.sid, "marker") is None

        wait_until(tick, interval=0.05, what="the TTL to end the session despite writes")
        self.assertGreaterEqual(time.monotonic() - start, 0.5)

    def test_idle_without_expiry_lives(self):
        self.m.save(self.sid, "a", 1)
        self.assertTrue(self.m.set_expiry(self.sid, idle_seconds=-1))
        self.assertEqual(self.m.ttl(self.sid), -1.0)


class TestInterop(GridTestCase):
    """Cross-language data: reads what Go wrote, writes what Go and Java read."""

    def setUp(self):
        super().setUp()
        if not INTEROP:
            self.skipTest("GRIDNODE_INTEROP_PREFIX not set (only adapters_test.go sets it)")

    def test_reads_what_go_wrote(self):
        sid = INTEROP + "go"
        self.assertEqual(self.m.fetch_all(sid), INTEROP_DATA)
        self.assertEqual(self.m.get_user_props(sid), INTEROP_PROPS)
        self.assertEqual(self.m.get_global(INTEROP + "g:go"), {"lang": "go", "n": 1})

    def test_writes_for_go_and_java(self):
        sid = INTEROP + "py"
        self.m.clear(sid)
        self.m.save_all(sid, INTEROP_DATA)
        for k, v in INTEROP_PROPS.items():
            self.m.save_prop(sid, k, v)
        self.m.save_global(INTEROP + "g:py", {"lang": "py", "n": 2})
        self.assertEqual(json.loads(self.r.hget(sid, "auth")), INTEROP_DATA["auth"])


if __name__ == "__main__":
    unittest.main()
