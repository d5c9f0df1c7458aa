package server

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requireTool returns the path of an external client the tests drive.
// CI installs them (redis-tools, python3-redis); a missing one fails the
// test unless SESSIONGRID_ALLOW_MISSING_TOOLS=1.
func requireTool(t testing.TB, name string, check ...string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil && len(check) > 0 {
		err = exec.Command(path, check...).Run()
	}
	if err != nil {
		msg := name + " is not usable (" + err.Error() + "): install redis-tools and python3-redis " +
			"(apt-get install -y redis-tools python3-redis), or set SESSIONGRID_ALLOW_MISSING_TOOLS=1 to skip"
		if os.Getenv("SESSIONGRID_ALLOW_MISSING_TOOLS") == "1" {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	return path
}

// requireRedisPy returns the python3 that imports module (redis-py's), or
// ends the test as requireTool does.
func requireRedisPy(t testing.TB, module string) string {
	t.Helper()
	return requireTool(t, "/usr/bin/python3", "-c", "import "+module)
}

// runTool runs a command with stdin and returns its standard output.
func runTool(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\nstdout: %s\nstderr: %s", name, args, err, out, stderr.String())
	}
	return string(out)
}

func TestRedisCLI(t *testing.T) {
	cli := requireTool(t, "redis-cli")
	n := startNode(t, Config{})
	host, port, _ := strings.Cut(n.addr, ":")
	run := func(args ...string) string {
		t.Helper()
		return runTool(t, "", cli, append([]string{"-h", host, "-p", port}, args...)...)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "PONG\n"},
		{[]string{"HSET", "cli:s", "stage", "menu", "name", "Ada Lovelace"}, "2\n"},
		{[]string{"--raw", "HGETALL", "cli:s"}, "name\nAda Lovelace\nstage\nmenu\n"},
		{[]string{"--no-raw", "HGET", "cli:s", "name"}, "\"Ada Lovelace\"\n"},
		{[]string{"--no-raw", "HGET", "cli:s", "nope"}, "(nil)\n"},
		{[]string{"--no-raw", "HLEN", "cli:s"}, "(integer) 2\n"},
		{[]string{"--no-raw", "-3", "HGETALL", "cli:s"}, "1# \"name\" => \"Ada Lovelace\"\n2# \"stage\" => \"menu\"\n"},
		{[]string{"--no-raw", "GET", "cli:s"}, "(error) WRONGTYPE Operation against a key holding the wrong kind of value\n"},
		{[]string{"SET", "cli:lock", "tok", "NX", "PX", "10000"}, "OK\n"},
		{[]string{"--no-raw", "SET", "cli:lock", "tok2", "NX", "PX", "10000"}, "(nil)\n"},
		{[]string{"DELEX", "cli:lock", "IFEQ", "tok"}, "1\n"},
		{[]string{"SESSION.PROPSET", "cli:s", "city", "Harare"}, "OK\n"},
		{[]string{"--raw", "SESSION.PROPS", "cli:s"}, "city\nHarare\n"},
		{[]string{"--no-raw", "FOO", "x"}, "(error) ERR unknown command 'FOO', with args beginning with: 'x' \n"},
		{[]string{"TYPE", "cli:s"}, "hash\n"},
		{[]string{"DEL", "cli:s"}, "1\n"},
	}
	for _, tc := range cases {
		if got := run(tc.args...); got != tc.want {
			t.Errorf("redis-cli %v = %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := run("INFO", "keyspace"); !strings.Contains(got, "# Keyspace") {
		t.Errorf("INFO keyspace = %q", got)
	}
	// Commands read from standard input, one per line.
	if got := runTool(t, "SET cli:a 1\nINCR cli:a\nGET cli:a\n", cli, "-h", host, "-p", port); got != "OK\n2\n2\n" {
		t.Errorf("redis-cli with commands on stdin = %q", got)
	}
	// Mass insertion (--pipe): raw RESP on stdin, one write.
	var pipe strings.Builder
	for i := range 1000 {
		k := "cli:p" + strconv.Itoa(i)
		pipe.WriteString("*4\r\n$4\r\nHSET\r\n$" + strconv.Itoa(len(k)) + "\r\n" + k + "\r\n$1\r\nf\r\n$1\r\nv\r\n")
	}
	if got := runTool(t, pipe.String(), cli, "-h", host, "-p", port, "--pipe"); !strings.Contains(got, "errors: 0, replies: 1000") {
		t.Errorf("redis-cli --pipe = %q", got)
	}
	if got := run("DBSIZE"); got != "1001\n" {
		t.Errorf("DBSIZE after --pipe = %q", got)
	}
}

func TestRedisCLIAuth(t *testing.T) {
	cli := requireTool(t, "redis-cli")
	n := startNode(t, Config{Password: "pw"})
	host, port, _ := strings.Cut(n.addr, ":")
	if got := runTool(t, "", cli, "-h", host, "-p", port, "--no-auth-warning", "-a", "pw", "PING"); got != "PONG\n" {
		t.Errorf("with the password: %q", got)
	}
	if got := runTool(t, "", cli, "-h", host, "-p", port, "--no-raw", "PING"); !strings.Contains(got, "NOAUTH") {
		t.Errorf("without the password: %q", got)
	}
}

// pyScript exercises gridnode from redis-py (RESP2, as redis-py 4 speaks).
const pyScript = `
import sys, threading, redis
port, password = int(sys.argv[1]), (sys.argv[2] or None)
r = redis.Redis(host="127.0.0.1", port=port, password=password, decode_responses=True)
assert r.ping() is True
assert r.hset("py:s", mapping={"stage": "menu", "name": "Ada"}) == 2
assert r.hgetall("py:s") == {"stage": "menu", "name": "Ada"}, r.hgetall("py:s")
assert r.hget("py:s", "stage") == "menu"
assert r.hget("py:s", "nope") is None
assert r.hmget("py:s", ["name", "nope"]) == ["Ada", None]
assert r.hdel("py:s", "stage", "nope") == 1
assert r.hexists("py:s", "name") is True
assert r.expire("py:s", 100) is True
assert 99 <= r.ttl("py:s") <= 100
try:
    r.get("py:s")
    raise SystemExit("GET on a session did not fail")
except redis.ResponseError as e:
    assert str(e).startswith("WRONGTYPE"), e
try:
    r.execute_command("NOSUCH", "x")
    raise SystemExit("unknown command did not fail")
except redis.ResponseError as e:
    assert "unknown command" in str(e), e
assert r.execute_command("SESSION.PROPSET", "py:s", "city", "Harare") == "OK"
assert r.execute_command("SESSION.PROPGET", "py:s", "city") == "Harare"
assert r.execute_command("SESSION.PROPS", "py:s") == ["city", "Harare"]
assert r.execute_command("GLOBAL.SET", "py:g", "v") == "OK"
assert r.execute_command("GLOBAL.GET", "py:g") == "v"
assert r.set("py:k", "v", ex=30) is True
assert r.set("py:k", "w", nx=True) is None
assert r.get("py:k") == "v"
p = r.pipeline(transaction=False)
for i in range(200):
    p.hset("py:p%d" % i, "f", str(i))
    p.hget("py:p%d" % i, "f")
res = p.execute()
assert res == [x for i in range(200) for x in (1, str(i))], res[:6]

# The per-user lock under contention: no increment lost.
def worker(n, token):
    c = redis.Redis(host="127.0.0.1", port=port, password=password, decode_responses=True)
    for _ in range(n):
        while not c.set("py:lock", token, nx=True, px=10000):
            pass
        v = int(c.get("py:counter") or 0)
        c.set("py:counter", v + 1)
        assert c.execute_command("DELEX", "py:lock", "IFEQ", token) == 1
threads = [threading.Thread(target=worker, args=(25, "t%d" % i)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
assert r.get("py:counter") == "100", r.get("py:counter")
print("ok")
`

func TestRedisPy(t *testing.T) {
	py := requireRedisPy(t, "redis")
	withPasswords(t, func(t *testing.T, n *testNode, pw string) {
		if got := runTool(t, "", py, "-c", pyScript, n.port(), pw); got != "ok\n" {
			t.Fatalf("redis-py script printed %q", got)
		}
	})
}

// withPasswords runs f in two subtests: against a node without a password
// (pw is "") and against one whose password is pw.
func withPasswords(t *testing.T, f func(t *testing.T, n *testNode, pw string)) {
	for _, pw := range []string{"", "py-secret"} {
		t.Run("password="+pw, func(t *testing.T) {
			f(t, startNode(t, Config{Password: pw}), pw)
		})
	}
}
