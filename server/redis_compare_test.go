package server

import (
	"strconv"
	"strings"
	"testing"
)

// Side by side with a real redis-server: the same command sequences sent
// to both, the raw replies compared. redis-server listens on a Unix socket
// in the test's directory only (no TCP port).

// compareCases are command sequences whose every reply must be the same
// byte for byte (as readReply renders it) from gridnode and Redis 7.
var compareCases = []struct {
	name string
	cmds [][]string
}{
	{"hincrby", [][]string{
		{"hincrby", "h", "f", "5"}, {"hincrby", "h", "f", "-7"}, {"hget", "h", "f"},
		{"hincrby", "h", "f", "x"}, {"hincrby", "h", "f", "1.5"}, {"hincrby", "h", "f", " 1"}, {"hincrby", "h", "f", "+1"},
		{"hset", "h", "s", "abc"}, {"hincrby", "h", "s", "1"},
		{"hset", "h", "big", "9223372036854775807"}, {"hincrby", "h", "big", "1"}, {"hincrby", "h", "big", "0"},
		{"hset", "h", "small", "-9223372036854775808"}, {"hincrby", "h", "small", "-1"},
		{"hincrby", "h", "n", "9223372036854775808"}, {"hincrby", "h", "n", "-9223372036854775808"},
		{"hset", "h", "sp", " 5"}, {"hincrby", "h", "sp", "1"},
		{"set", "str", "1"}, {"hincrby", "str", "f", "1"},
		{"hincrby", "h", "f"}, {"hincrby", "h", "f", "1", "2"},
	}},
	{"hincrbyfloat", [][]string{
		{"hincrbyfloat", "h", "f", "10.5"}, {"hincrbyfloat", "h", "f", "0.1"}, {"hincrbyfloat", "h", "f", "-5"},
		{"hincrbyfloat", "h", "g", "0.1"}, {"hincrbyfloat", "h", "g", "0.2"},
		{"hincrbyfloat", "h", "e", "5.0e3"}, {"hincrbyfloat", "h", "e", "2.0e2"}, {"hincrbyfloat", "h", "e", "-5200"},
		{"hincrbyfloat", "h", "f", "abc"}, {"hincrbyfloat", "h", "f", "nan"}, {"hincrbyfloat", "h", "f", "inf"},
		{"hincrbyfloat", "h", "f", ""}, {"hincrbyfloat", "h", "f", " 1"},
		{"hset", "h", "s", "x"}, {"hincrbyfloat", "h", "s", "1"},
		{"hset", "h", "i", "3"}, {"hincrbyfloat", "h", "i", "1.25"},
		{"hincrbyfloat", "h", "z", "1.5"}, {"hincrbyfloat", "h", "z", "-1.5"},
		{"set", "str", "1"}, {"hincrbyfloat", "str", "f", "1"},
	}},
	{"hsetnx", [][]string{
		{"hsetnx", "h", "f", "v"}, {"hsetnx", "h", "f", "w"}, {"hget", "h", "f"},
		{"set", "str", "1"}, {"hsetnx", "str", "f", "v"}, {"hsetnx", "h", "f"},
	}},
	{"hscan", [][]string{
		{"hscan", "missing", "0"}, {"hset", "h", "a", "1"}, {"hscan", "h", "0"},
		{"hscan", "h", "0", "COUNT", "100"}, {"hscan", "h", "0", "MATCH", "a*"}, {"hscan", "h", "0", "MATCH", "z*"},
		{"hscan", "h", "x"}, {"hscan", "h", "-1"}, {"hscan", "h", "0", "COUNT", "0"}, {"hscan", "h", "0", "COUNT", "x"},
		{"hscan", "h", "0", "BAD"}, {"hscan", "h", "0", "COUNT"}, {"hscan", "missing", "0", "BAD"},
		{"set", "str", "1"}, {"hscan", "str", "0"},
	}},
	{"hrandfield", [][]string{
		{"hrandfield", "missing"}, {"hrandfield", "missing", "3"}, {"hrandfield", "missing", "-3", "WITHVALUES"},
		{"hset", "h", "only", "v"}, {"hrandfield", "h"}, {"hrandfield", "h", "0"}, {"hrandfield", "h", "5"},
		{"hrandfield", "h", "-3"}, {"hrandfield", "h", "-2", "WITHVALUES"}, {"hrandfield", "h", "2", "withvalues"},
		{"hrandfield", "h", "x"}, {"hrandfield", "h", "1", "bad"}, {"hrandfield", "h", "1", "withvalues", "x"},
		{"set", "str", "1"}, {"hrandfield", "str"}, {"hrandfield", "str", "1"},
	}},
	{"incrbyfloat", [][]string{
		{"incrbyfloat", "k", "10.5"}, {"incrbyfloat", "k", "0.1"}, {"incrbyfloat", "k", "-5"},
		{"set", "k2", "5.0e3"}, {"incrbyfloat", "k2", "2.0e2"}, {"incrbyfloat", "k3", "3.0e-2"},
		{"incrbyfloat", "k", "x"}, {"incrbyfloat", "k", "inf"}, {"set", "s", "abc"}, {"incrbyfloat", "s", "1"},
		{"hset", "h", "f", "1"}, {"incrbyfloat", "h", "1"}, {"set", "i", "17"}, {"incrbyfloat", "i", "1"},
		{"set", "t", "1"}, {"expire", "t", "1000"}, {"incrbyfloat", "t", "1"}, {"ttl", "t"},
	}},
	{"append and strlen", [][]string{
		{"append", "k", "hello"}, {"append", "k", " world"}, {"get", "k"}, {"strlen", "k"}, {"strlen", "missing"},
		{"append", "k", ""}, {"hset", "h", "f", "v"}, {"append", "h", "x"}, {"strlen", "h"},
		{"set", "t", "a"}, {"expire", "t", "1000"}, {"append", "t", "b"}, {"ttl", "t"},
	}},
	{"getdel", [][]string{
		{"set", "k", "v"}, {"getdel", "k"}, {"exists", "k"}, {"getdel", "k"},
		{"hset", "h", "f", "v"}, {"getdel", "h"}, {"exists", "h"},
	}},
	{"getex", [][]string{
		{"set", "k", "v"}, {"getex", "k"}, {"ttl", "k"}, {"getex", "k", "EX", "100"}, {"ttl", "k"},
		{"getex", "k", "PERSIST"}, {"ttl", "k"}, {"getex", "k", "PX", "100000"}, {"ttl", "k"},
		{"getex", "k", "EXAT", "4102444800"}, {"expiretime", "k"}, {"getex", "k", "PXAT", "4102444800123"}, {"pexpiretime", "k"},
		{"getex", "k", "EX", "0"}, {"getex", "k", "EX", "-1"}, {"getex", "k", "EX", "x"},
		{"getex", "k", "EX", "9223372036854775807"}, {"getex", "k", "PX", "9223372036854775807"},
		{"getex", "k", "EX", "10", "PX", "10"}, {"getex", "k", "PERSIST", "EX", "10"}, {"getex", "k", "EX"}, {"getex", "k", "BAD"},
		{"getex", "missing", "EX", "x"}, {"getex", "missing", "EX", "0"}, {"getex", "missing", "BAD"},
		{"getex", "k", "EXAT", "1"}, {"exists", "k"},
		{"hset", "h", "f", "v"}, {"getex", "h"}, {"getex", "h", "EX", "0"},
	}},
	{"getrange", [][]string{
		{"set", "k", "This is a string"}, {"getrange", "k", "0", "3"}, {"getrange", "k", "-3", "-1"},
		{"getrange", "k", "0", "-1"}, {"getrange", "k", "10", "100"}, {"getrange", "k", "5", "3"},
		{"getrange", "k", "-1", "-5"}, {"getrange", "k", "-100", "2"}, {"getrange", "k", "100", "200"},
		{"getrange", "missing", "0", "1"}, {"getrange", "k", "x", "1"}, {"getrange", "k", "0", "1.5"},
		{"set", "e", ""}, {"getrange", "e", "0", "-1"},
		{"hset", "h", "f", "v"}, {"getrange", "h", "0", "1"},
	}},
	{"setrange", [][]string{
		{"setrange", "k", "6", "Redis"}, {"get", "k"}, {"set", "w", "Hello World"}, {"setrange", "w", "6", "Redis"}, {"get", "w"},
		{"setrange", "w", "20", "!"}, {"get", "w"}, {"setrange", "missing", "5", ""}, {"exists", "missing"},
		{"setrange", "w", "3", ""}, {"setrange", "w", "-1", "x"}, {"setrange", "w", "x", "y"},
		{"setrange", "w", "536870912", "x"}, {"hset", "h", "f", "v"}, {"setrange", "h", "0", "x"}, {"setrange", "h", "0", ""},
	}},
	{"mset and msetnx", [][]string{
		{"mset", "a", "1", "b", "2"}, {"mget", "a", "b", "c"}, {"mset", "a"}, {"mset", "a", "1", "b"},
		{"msetnx", "c", "3", "d", "4"}, {"msetnx", "d", "5", "e", "6"}, {"mget", "c", "d", "e"},
		{"hset", "h", "f", "v"}, {"msetnx", "h", "1", "z", "2"}, {"exists", "z"}, {"mset", "h", "s"}, {"type", "h"},
		{"set", "t", "x"}, {"expire", "t", "100"}, {"mset", "t", "y"}, {"ttl", "t"},
	}},
	{"expire options", [][]string{
		{"set", "k", "v"}, {"expire", "k", "100", "XX"}, {"expire", "k", "100", "NX"}, {"expire", "k", "200", "NX"},
		{"expire", "k", "50", "GT"}, {"expire", "k", "500", "GT"}, {"expire", "k", "1000", "LT"}, {"expire", "k", "300", "LT"},
		{"expire", "k", "10", "XX", "GT"}, {"expire", "k", "10", "NX", "XX"}, {"expire", "k", "10", "GT", "LT"},
		{"expire", "k", "10", "BAD"}, {"expire", "k", "x"}, {"expire", "k", "x", "BAD"}, {"expire", "missing", "10"},
		{"persist", "k"}, {"expire", "k", "10", "GT"}, {"expire", "k", "10", "LT"}, {"ttl", "k"},
		{"expire", "k", "9223372036854775807"}, {"pexpire", "k", "9223372036854775807"}, {"expire", "k", "-9223372036854775808"},
		{"expireat", "k", "4102444800"}, {"expiretime", "k"}, {"pexpiretime", "k"},
		{"pexpireat", "k", "4102444800500", "GT"}, {"pexpiretime", "k"}, {"expireat", "k", "4102444800", "LT"}, {"pexpiretime", "k"},
		{"expireat", "k", "1"}, {"exists", "k"}, {"expiretime", "k"}, {"set", "p", "v"}, {"expiretime", "p"},
		{"pexpire", "p", "-1"}, {"exists", "p"},
	}},
	{"touch rename copy", [][]string{
		{"mset", "a", "1", "b", "2"}, {"touch", "a", "b", "c"}, {"rename", "a", "c"}, {"get", "c"}, {"exists", "a"},
		{"rename", "missing", "x"}, {"rename", "c", "c"}, {"renamenx", "c", "c"}, {"renamenx", "c", "b"}, {"renamenx", "c", "d"},
		{"renamenx", "missing", "d"}, {"copy", "d", "e"}, {"get", "e"}, {"copy", "d", "e"}, {"set", "d", "new"},
		{"copy", "d", "e", "REPLACE"}, {"get", "e"}, {"copy", "d", "d"}, {"copy", "missing", "e"}, {"copy", "d", "e", "BAD"},
		{"copy", "d", "e", "DB"}, {"copy", "d", "e", "DB", "x"}, {"copy", "d", "f", "DB", "0"}, {"get", "f"},
		{"hset", "h", "f1", "v1", "f2", "v2"}, {"expire", "h", "1000"}, {"rename", "h", "h2"}, {"hgetall", "h2"}, {"ttl", "h2"},
		{"copy", "h2", "h3"}, {"hgetall", "h3"}, {"type", "h3"},
		{"set", "s", "v"}, {"pexpireat", "s", "4102444800123"}, {"rename", "s", "s2"}, {"pexpiretime", "s2"},
		{"copy", "s2", "s3"}, {"pexpiretime", "s3"}, {"rename", "s2", "h3"}, {"type", "h3"},
	}},
	{"object and memory", [][]string{
		{"set", "i", "12345"}, {"object", "encoding", "i"}, {"set", "e", "short"}, {"object", "encoding", "e"},
		{"set", "r", strings.Repeat("x", 50)}, {"object", "encoding", "r"}, {"hset", "h", "f", "v"}, {"object", "encoding", "h"},
		{"object", "encoding", "missing"}, {"object", "idletime", "missing"}, {"object", "refcount", "missing"},
		{"object", "bad", "h"}, {"object", "encoding"}, {"memory", "usage", "missing"}, {"memory", "bad"},
		{"memory", "usage", "h", "SAMPLES", "x"},
	}},
	{"wait and slowlog errors", [][]string{
		{"wait", "0", "0"}, {"wait", "x", "0"}, {"wait", "0", "x"}, {"wait", "0", "-1"}, {"set", "k", "v"}, {"wait", "0", "10"},
		{"slowlog", "get", "-2"}, {"slowlog", "get", "x"}, {"slowlog", "bad"}, {"slowlog", "len", "x"},
	}},
	{"randomkey and db", [][]string{
		{"randomkey"}, {"set", "only", "v"}, {"randomkey"}, {"select", "x"},
	}},
	{"client kill errors", [][]string{
		{"client", "kill", "1.2.3.4:5"}, {"client", "kill", "id", "0"}, {"client", "kill", "id", "x"},
		{"client", "kill", "id", "99999"}, {"client", "kill", "addr", "1.2.3.4:5", "skipme", "maybe"},
		{"client", "kill", "bad", "x"}, {"client", "kill", "id"}, {"client", "kill", "user", "nobody"},
		{"client", "kill", "type", "bad"}, {"client", "kill", "type", "pubsub"},
	}},
}

func TestCompareWithRedis(t *testing.T) {
	sock := startRedisServer(t)
	port := startRealClockNode(t)
	for _, proto := range []string{"2", "3"} {
		for _, tc := range compareCases {
			t.Run("RESP"+proto+"/"+tc.name, func(t *testing.T) {
				ours := dialRESP(t, "tcp", "127.0.0.1:"+port)
				theirs := dialRESP(t, "unix", sock)
				for _, rc := range []*respConn{ours, theirs} {
					rc.doText("hello", proto)
					if got := rc.doText("flushall"); got != "+OK" {
						t.Fatalf("FLUSHALL: %q", got)
					}
				}
				compareReplies(t, ours, theirs, tc.cmds, (*respConn).doText, nearDeadline)
			})
		}
	}
}

// nearDeadline accepts a PEXPIRETIME a few milliseconds late: deadlines
// travel to the store as times left, so one set at a given millisecond
// reads back at it or just after (never before).
func nearDeadline(cmd []string, got, want string) bool {
	if !strings.EqualFold(cmd[0], "pexpiretime") {
		return false
	}
	g, err1 := strconv.ParseInt(strings.TrimPrefix(got, ":"), 10, 64)
	w, err2 := strconv.ParseInt(strings.TrimPrefix(want, ":"), 10, 64)
	return err1 == nil && err2 == nil && w > 0 && g >= w && g-w <= 5
}
