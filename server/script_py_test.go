package server

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testrun"
)

// runPythonProcs runs n python3 processes of script with args (plus the
// process index) at once and fails the test if any fails or does not print
// "ok".
func runPythonProcs(t *testing.T, py string, n int, script string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	testrun.Concurrently(t, n, func(i int) error {
		cmd := exec.CommandContext(ctx, py, slices.Concat([]string{"-c", script}, args, []string{fmt.Sprint(i)})...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			return fmt.Errorf("process %d: %v\nstdout: %s\nstderr: %s", i, err, out, stderr.String())
		}
		return nil
	})
}

// pyLockWorker increments a counter stored in gridnode M times, each time
// under redis-py's Lock (SET NX PX to take it; EVALSHA of its Lua scripts,
// after SCRIPT LOAD on NOSCRIPT, to extend, reacquire and release it).
const pyLockWorker = `
import sys, time, redis
from redis.exceptions import LockError, LockNotOwnedError
port, rounds, idx = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
r = redis.Redis(host="127.0.0.1", port=port)
for i in range(rounds):
    lock = r.lock("pylock:counter", timeout=10, sleep=0.002, blocking_timeout=60)
    assert lock.acquire(), "lock not acquired in 60s"
    assert lock.owned()
    if i % 5 == 0:
        assert lock.extend(5) is True
        assert 10000 < r.pttl("pylock:counter") <= 15000, r.pttl("pylock:counter")
        assert lock.extend(3, replace_ttl=True) is True
        assert 0 < r.pttl("pylock:counter") <= 3000, r.pttl("pylock:counter")
        assert lock.reacquire() is True
        assert 3000 < r.pttl("pylock:counter") <= 10000
    v = int(r.get("pylock:counter:value") or 0)
    r.set("pylock:counter:value", v + 1)
    lock.release()
    try:
        lock.release()
        raise SystemExit("a released lock could be released again")
    except LockError:
        pass
print("ok")
`

// pyLockExpiry checks that a lock that expired cannot be released (or
// extended) by its old holder, and does not release the new holder's.
const pyLockExpiry = `
import sys, time, redis
from redis.exceptions import LockNotOwnedError
port = int(sys.argv[1])
r = redis.Redis(host="127.0.0.1", port=port)
old = r.lock("pylock:expiry", timeout=0.3)
assert old.acquire(blocking=False)
other = r.lock("pylock:expiry", timeout=10)
t0 = time.monotonic()
assert other.acquire(blocking=True, blocking_timeout=0.1) is False
assert time.monotonic() - t0 < 1.0
time.sleep(0.5)                     # old's lease ends
assert other.acquire(blocking=True, blocking_timeout=5), "the expired lock was not free"
for op in (lambda: old.extend(1), old.release):   # release forgets the token: last
    try:
        op()
        raise SystemExit("the old holder could release or extend an expired lock")
    except LockNotOwnedError:
        pass
assert r.get("pylock:expiry") == other.local.token, "the old holder's release touched the new holder's lock"
other.release()
assert r.exists("pylock:expiry") == 0
print("ok")
`

func TestRedisPyLock(t *testing.T) {
	py := requireRedisPy(t, "redis.lock")
	port := startRealClockNode(t)
	const procs, rounds = 4, 25
	runPythonProcs(t, py, procs, pyLockWorker, port, fmt.Sprint(rounds))
	check := fmt.Sprintf(`
import sys, redis
r = redis.Redis(host="127.0.0.1", port=%s)
assert int(r.get("pylock:counter:value")) == %d, r.get("pylock:counter:value")
assert r.exists("pylock:counter") == 0
print("ok")
`, port, procs*rounds)
	if got := runTool(t, "", py, "-c", check); got != "ok\n" {
		t.Fatalf("counter check printed %q", got)
	}
	runPythonProcs(t, py, 1, pyLockExpiry, port)
}

// pyFrappeReplay replays frappe_pywce's bot path for one WhatsApp message
// against gridnode, with Frappe's RedisWrapper key scheme
// ("<db_name>|<key>", pickled values, KEYS + UNLINK to clear) and the
// session layout of frappe_pywce's FrappeRedisSessionManager (one JSON
// value per user under "fpw:<wa_id>", SET ... EX ttl; the per-user lock
// "fpw:lock:<wa_id>" taken with frappe.cache().lock(timeout=lease,
// blocking_timeout=wait), i.e. redis-py's Lock).
const pyFrappeReplay = `
import sys, json, pickle, redis
port, messages, idx = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
DB = "_5e5c3a1b2f0d"                      # frappe.conf.db_name
r = redis.Redis(host="127.0.0.1", port=port)

# frappe.utils.redis_wrapper.RedisWrapper, the calls frappe_pywce makes.
def make_key(key): return f"{DB}|{key}".encode()
def set_value(key, val, expires_in_sec=None): r.set(make_key(key), pickle.dumps(val), ex=expires_in_sec)
def get_value(key):
    v = r.get(make_key(key))
    return None if v is None else pickle.loads(v)
def get_keys(key): return r.keys(make_key(key + "*"))
def delete_keys(key):
    keys = get_keys(key)
    if keys: r.unlink(*keys)
    return keys

# frappe_pywce.managers.FrappeRedisSessionManager.
TTL = 1800
def session_key(wa_id): return f"fpw:{wa_id}"
def get_data(wa_id):
    raw = get_value(session_key(wa_id))
    return {} if raw is None else json.loads(raw)
def set_data(wa_id, d): set_value(session_key(wa_id), json.dumps(d), expires_in_sec=TTL)
def save(wa_id, k, v):
    d = get_data(wa_id); d[k] = v; set_data(wa_id, d)
def get(wa_id, k): return get_data(wa_id).get(k)
def clear(wa_id): return delete_keys(session_key(wa_id))

LEASE, WAIT = 60, 30
def on_message(wa_id, text):
    # webhook._internal_webhook_handler: the whole message under the user's lock.
    with r.lock(f"fpw:lock:{wa_id}", timeout=LEASE, blocking_timeout=WAIT):
        history = get(wa_id, "history") or []
        save(wa_id, "stage", "menu")
        save(wa_id, "history", history + [text])
        assert get(wa_id, "stage") == "menu"

users = ["26377123456", "263771234567"]   # the first is a prefix of the second
for i in range(messages):
    for u in users:
        on_message(u, f"p{idx}-m{i}")
print("ok")
`

// pyFrappeCheck checks the sessions after the replay, then clears them the
// way frappe_pywce does (KEYS pattern + UNLINK).
const pyFrappeCheck = `
import sys, json, pickle, redis
port, want = int(sys.argv[1]), int(sys.argv[2])
DB = "_5e5c3a1b2f0d"
r = redis.Redis(host="127.0.0.1", port=port)
short, long = "26377123456", "263771234567"
def session(u):
    v = r.get(f"{DB}|fpw:{u}".encode())
    return None if v is None else json.loads(pickle.loads(v))
for u in (short, long):
    s = session(u)
    assert s is not None and s["stage"] == "menu", s
    assert len(s["history"]) == want, (u, len(s["history"]), want)   # no message lost under the lock
    assert len(set(s["history"])) == want
    assert 1790 <= r.ttl(f"{DB}|fpw:{u}") <= 1800, r.ttl(f"{DB}|fpw:{u}")
# Clearing the longer id, under its lock: the pattern "<db>|fpw:263771234567*"
# matches that user's key only; the other user and the locks are untouched.
with r.lock(f"fpw:lock:{long}", timeout=60, blocking_timeout=30) as lk:
    keys = r.keys(f"{DB}|fpw:{long}*".encode())
    assert keys == [f"{DB}|fpw:{long}".encode()], keys
    assert r.unlink(*keys) == 1
    assert lk.owned()
assert session(long) is None and session(short) is not None
assert r.exists(f"fpw:lock:{long}") == 0
# Clearing the shorter id: as in Redis, "<db>|fpw:26377123456*" also matches
# any longer id it prefixes (frappe_pywce's key scheme; here none is left).
set_v = lambda u: r.set(f"{DB}|fpw:{u}".encode(), pickle.dumps("{}"), ex=1800)
set_v(long)
keys = sorted(r.keys(f"{DB}|fpw:{short}*".encode()))
assert keys == sorted([f"{DB}|fpw:{short}".encode(), f"{DB}|fpw:{long}".encode()]), keys
assert r.keys(f"{DB}|fpw:{short}".encode()) == [f"{DB}|fpw:{short}".encode()]
# Glob specials in the pattern are Redis's: ? and [..] and escapes.
assert r.keys(f"{DB}|fpw:2637712345[6-7]".encode()) == [f"{DB}|fpw:{short}".encode()]
assert sorted(r.keys(f"{DB}\\|fpw:26377123456?".encode())) == [f"{DB}|fpw:{long}".encode()]
print("ok")
`

func TestFrappePywceReplay(t *testing.T) {
	py := requireRedisPy(t, "redis.lock")
	port := startRealClockNode(t)
	const procs, messages = 3, 8
	runPythonProcs(t, py, procs, pyFrappeReplay, port, fmt.Sprint(messages))
	runPythonProcs(t, py, 1, pyFrappeCheck, port, fmt.Sprint(procs*messages))
}
