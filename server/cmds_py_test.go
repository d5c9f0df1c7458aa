package server

import (
	"strings"
	"testing"
)

// pyCommands drives the issue-13 command families with redis-py (its
// reply callbacks parse what gridnode sends) and prints "ok".
const pyCommands = `
import sys, redis
port = int(sys.argv[1])
if True:  # redis-py 4.3 speaks RESP2 only
    r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    r.flushall()
    # hashes
    assert r.hincrby("s", "turn", 1) == 1 and r.hincrby("s", "turn", 2) == 3
    assert r.hincrbyfloat("s", "score", "0.1") == 0.1
    assert r.hincrbyfloat("s", "score", "0.2") == 0.3
    assert r.hsetnx("s", "stage", "intro") == 1 and r.hsetnx("s", "stage", "x") == 0
    cur, kv = r.hscan("s", 0, match="t*")
    assert cur == 0 and kv == {"turn": "3"}, kv
    assert dict(r.hscan_iter("s")) == r.hgetall("s")
    assert r.hrandfield("s") in ("turn", "score", "stage")
    assert len(r.hrandfield("s", -5)) == 5
    assert sorted(r.hrandfield("s", 10)) == ["score", "stage", "turn"]
    try:
        r.hincrby("s", "stage", 1)
        raise SystemExit("HINCRBY of a text field succeeded")
    except redis.ResponseError as e:
        assert str(e) == "hash value is not an integer", e
    # strings
    assert r.incrbyfloat("f", 2.5) == 2.5
    assert r.append("a", "hello") == 5 and r.strlen("a") == 5
    assert r.getrange("a", 1, 3) == "ell" and r.setrange("a", 0, "J") == 5 and r.get("a") == "Jello"
    assert r.getdel("a") == "Jello" and r.exists("a") == 0
    r.set("e", "v")
    assert r.getex("e", ex=100) == "v" and 99 <= r.ttl("e") <= 100
    assert r.getex("e", persist=True) == "v" and r.ttl("e") == -1
    assert r.mset({"m1": "1", "m2": "2"}) is True
    assert r.msetnx({"m2": "x", "m3": "3"}) is False and r.exists("m3") == 0
    assert r.mget("m1", "m2", "m3") == ["1", "2", None]
    # keys
    assert r.expire("e", 100, nx=True) is True and r.expire("e", 10, gt=True) is False
    assert r.expire("e", 10, lt=True) is True and r.ttl("e") == 10
    assert r.expireat("e", 4102444800) is True and r.expiretime("e") == 4102444800
    assert r.pexpiretime("e") >= 4102444800000
    assert r.touch("e", "m1", "none") == 2
    assert r.rename("m1", "n1") is True and r.get("n1") == "1"
    assert r.renamenx("n1", "m2") is False
    assert r.copy("n1", "n2") is True and r.get("n2") == "1"
    assert r.randomkey() is not None
    assert r.object("encoding", "n1") == "int"
    assert r.memory_usage("s") > 0
    # operations
    assert r.wait(0, 0) == 0
    r.slowlog_reset()
    assert r.slowlog_len() == 0 and r.slowlog_get() == []
    assert "cmdstat_hincrby" in r.info("commandstats")
    # a pipeline without a transaction: owned commands in a batch
    p = r.pipeline(transaction=False)
    p.hincrby("s", "turn", 1).mset({"p1": "1"}).incrbyfloat("f", 1).rename("p1", "p2")
    assert p.execute() == [4, True, 3.5, True], p
    try:
        r.execute_command("LPUSH", "l", "a")
        raise SystemExit("LPUSH succeeded")
    except redis.ResponseError as e:
        assert "unsupported data type" in str(e) and "list" in str(e), e
print("ok")
`

func TestCommandsRedisPy(t *testing.T) {
	py := requireRedisPy(t, "redis")
	port := startRealClockNode(t)
	runPythonProcs(t, py, 1, pyCommands, port)
}

func TestCommandsRedisCLI(t *testing.T) {
	cli := requireTool(t, "redis-cli")
	port := startRealClockNode(t)
	run := func(args ...string) string {
		t.Helper()
		return strings.TrimSpace(runTool(t, "", cli, append([]string{"-p", port}, args...)...))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"HINCRBY", "s", "turn", "5"}, "5"},
		{[]string{"HINCRBYFLOAT", "s", "score", "1.5"}, "1.5"},
		{[]string{"HSETNX", "s", "stage", "intro"}, "1"},
		{[]string{"HSCAN", "s", "0", "MATCH", "st*"}, "0\nstage\nintro"},
		{[]string{"HRANDFIELD", "s", "-2", "WITHVALUES"}, ""},
		{[]string{"INCRBYFLOAT", "f", "0.1"}, "0.1"},
		{[]string{"APPEND", "a", "xyz"}, "3"},
		{[]string{"STRLEN", "a"}, "3"},
		{[]string{"GETRANGE", "a", "-2", "-1"}, "yz"},
		{[]string{"SETRANGE", "a", "1", "Y"}, "3"},
		{[]string{"GETDEL", "a"}, "xYz"},
		{[]string{"MSET", "m1", "1", "m2", "2"}, "OK"},
		{[]string{"MSETNX", "m2", "1", "m3", "2"}, "0"},
		{[]string{"EXPIREAT", "m1", "4102444800", "NX"}, "1"},
		{[]string{"EXPIRETIME", "m1"}, "4102444800"},
		{[]string{"RENAME", "m1", "r1"}, "OK"},
		{[]string{"COPY", "r1", "r2"}, "1"},
		{[]string{"TOUCH", "r1", "r2", "x"}, "2"},
		{[]string{"OBJECT", "ENCODING", "s"}, "listpack"},
		{[]string{"WAIT", "0", "0"}, "0"},
		{[]string{"SLOWLOG", "LEN"}, "0"},
		{[]string{"LPUSH", "l", "a"}, "ERR unsupported data type: gridnode stores hashes (sessions) and strings only; lists, sets, sorted sets and streams are not supported ('lpush' is a list command)"},
	} {
		got := run(tc.args...)
		if tc.args[0] == "HRANDFIELD" {
			if len(strings.Split(got, "\n")) != 4 {
				t.Errorf("redis-cli %v = %q, want 2 pairs", tc.args, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("redis-cli %v = %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := run("INFO", "commandstats"); !strings.Contains(got, "cmdstat_hincrby:calls=1,") {
		t.Errorf("INFO commandstats = %q", got)
	}
	if got := run("COMMAND", "DOCS", "hincrby"); !strings.Contains(got, "Increments the integer value of a field") {
		t.Errorf("COMMAND DOCS hincrby = %q", got)
	}
}
