package server

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var evalFuzzSeeds = []struct{ script, arg string }{
	{"return 1", ""},
	{"return redis.call('set', KEYS[1], ARGV[1])", "v"},
	{"return redis.call('get', KEYS[1])", ""},
	{"return redis.pcall('hget', KEYS[1], 'f')", ""},
	{"return {1, 'a', {ok='x'}, {err='E y'}, true, false, 2.5}", ""},
	{"local t = {} t[1] = t return t", ""},
	{"while true do end", ""},
	{"return string.rep(ARGV[1], 1e9)", "ab"},
	{"return string.gsub(ARGV[1], '(%w+)', '%1%1%2')", "hello world"},
	{"return string.format(ARGV[1], 1, 'x')", "%5d %s %q"},
	{"return {string.find(ARGV[1], '(a*)(b)')}", "aab"},
	{"for w in string.gmatch(ARGV[1], '%a+') do redis.call('rpush', w) end", "a b"},
	{"return loadstring(ARGV[1])()", "return 1 +"},
	{"return redis.call(ARGV[1], KEYS[1])", "client"},
	{"return tonumber(ARGV[1]) + 0", "1e400"},
	{"return (" + strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300) + ")", ""},
	{"retrun", ""},
	{"\x00\xff", "\x00"},
}

// FuzzEval feeds arbitrary script text and arguments to EVAL: the server
// must answer one well-formed reply and keep serving, never panic.
func FuzzEval(f *testing.F) {
	for _, s := range evalFuzzSeeds {
		f.Add(s.script, s.arg)
	}
	fs := newFuzzServer(f, Config{MaxValueSize: 4096})
	srv := fs.srv
	scriptingOf(srv).setLimits(50*time.Millisecond, 16<<20)
	c := newConn(srv, &memConn{in: bytes.NewReader(nil)}, 1)
	f.Fuzz(func(t *testing.T, script, arg string) {
		c.out.b = c.out.b[:0]
		c.exec([][]byte{[]byte("EVAL"), []byte(script), []byte("1"), []byte("fuzz:k"), []byte(arg)})
		reply := append([]byte(nil), c.out.b...)
		if panics := fs.catcher.take(); len(panics) > 0 {
			t.Fatalf("script %q: %s", script, panics[0])
		}
		n, msg := validReply(reply, 0)
		if msg == "nested too deep" {
			n, msg = len(reply), "" // scripts may nest deeper than the server's own replies
		}
		if msg != "" || n != len(reply) {
			t.Fatalf("script %q: not one well-formed reply (%s): %q", script, msg, reply)
		}
		c.out.b = c.out.b[:0]
		c.exec([][]byte{[]byte("PING")})
		if string(c.out.b) != "+PONG\r\n" {
			t.Fatalf("script %q: PING after it = %q", script, c.out.b)
		}
	})
}
