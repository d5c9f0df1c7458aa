package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A real redis-server beside gridnode: the same command sequences go to
// both and the raw replies are compared.

// startRedisServer starts a redis-server listening only on a unix socket
// (no TCP port) with extra arguments, stopped at the end of the test, and
// returns the socket path.
func startRedisServer(t testing.TB, extra ...string) string {
	t.Helper()
	bin := requireTool(t, "redis-server", "--version")
	dir, err := os.MkdirTemp("", "sgtx") // short: a socket path is limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "redis.sock")
	args := append([]string{"--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"}, extra...)
	cmd := exec.Command(bin, args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		os.RemoveAll(dir)
		if t.Failed() {
			t.Logf("redis-server log:\n%s", log.String())
		}
	})
	waitFor(t, "redis-server's socket", func() bool {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return sock
}

// respConn sends commands and reads their replies, raw (do) or as text
// (doText, rendered by readReply).
type respConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRESP(t *testing.T, network, addr string) *respConn {
	t.Helper()
	nc, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	return &respConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func encodeCommand(args []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.Bytes()
}

// do sends one command and returns its raw reply.
func (c *respConn) do(args ...string) string {
	c.t.Helper()
	if _, err := c.nc.Write(encodeCommand(args)); err != nil {
		c.t.Fatal(err)
	}
	var out bytes.Buffer
	if err := readRawReply(c.br, &out); err != nil {
		c.t.Fatalf("%v: reading the reply: %v (read %q)", args, err, out.String())
	}
	return out.String()
}

// doText sends one command and returns its reply as readReply renders it.
func (c *respConn) doText(args ...string) string {
	c.t.Helper()
	if _, err := c.nc.Write(encodeCommand(args)); err != nil {
		c.t.Fatal(err)
	}
	return readReply(c.t, c.br)
}

// readRawReply copies one RESP2/RESP3 reply from br to out.
func readRawReply(br *bufio.Reader, out *bytes.Buffer) error {
	line, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	out.WriteString(line)
	if len(line) < 3 {
		return fmt.Errorf("short line %q", line)
	}
	body := strings.TrimSuffix(line[1:], "\r\n")
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return nil
	case '$', '=', '!':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil
		}
		_, err := io.CopyN(out, br, int64(n)+2)
		return err
	case '*', '~', '>', '%', '|':
		n, _ := strconv.Atoi(body)
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for range max(n, 0) {
			if err := readRawReply(br, out); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown reply type %q", line)
}

// compareReplies sends each command of cmds to redis-server (theirs), then
// to gridnode (ours), reads both replies with read and reports those that
// differ, unless excused (when not nil) accepts the difference. A command
// whose name starts with "~" is sent to both, its replies not compared.
func compareReplies(t *testing.T, ours, theirs *respConn, cmds [][]string,
	read func(c *respConn, args ...string) string, excused func(cmd []string, got, want string) bool) {
	t.Helper()
	for _, cmd := range cmds {
		name, skip := strings.CutPrefix(cmd[0], "~")
		if skip {
			cmd = append([]string{name}, cmd[1:]...)
		}
		want, got := read(theirs, cmd...), read(ours, cmd...)
		if skip || got == want || excused != nil && excused(cmd, got, want) {
			continue
		}
		t.Errorf("%q:\ngridnode: %q\nredis:    %q", strings.Join(cmd, " "), got, want)
	}
}

// txCases are command sequences whose replies must equal Redis's, each on
// a fresh connection of an empty keyspace. A command starting with "~" is
// sent to both but its reply is not compared (HELLO names the server).
var txCases = map[string][][]string{
	"queued and run":         {{"multi"}, {"set", "a", "1"}, {"incr", "a"}, {"get", "a"}, {"exec"}},
	"runtime error kept":     {{"multi"}, {"set", "a", "x"}, {"incr", "a"}, {"get", "a"}, {"exec"}, {"get", "a"}},
	"wrong type in tx":       {{"hset", "h", "f", "v"}, {"multi"}, {"get", "h"}, {"hget", "h", "f"}, {"exec"}},
	"nested multi":           {{"multi"}, {"multi"}, {"set", "a", "1"}, {"exec"}, {"get", "a"}},
	"exec without multi":     {{"exec"}},
	"discard without multi":  {{"discard"}},
	"watch inside multi":     {{"multi"}, {"watch", "a"}, {"exec"}},
	"unknown command aborts": {{"multi"}, {"set", "a", "1"}, {"foo", "bar"}, {"exec"}, {"get", "a"}},
	"arity aborts":           {{"multi"}, {"get"}, {"exec"}},
	"multi arity in multi":   {{"multi"}, {"multi", "x"}, {"exec"}},
	"multi arity":            {{"multi", "x"}},
	"exec arity":             {{"exec", "x"}},
	"exec arity in multi":    {{"multi"}, {"set", "a", "1"}, {"exec", "x"}, {"exec"}, {"get", "a"}},
	"discard":                {{"multi"}, {"set", "a", "1"}, {"discard"}, {"exec"}, {"get", "a"}},
	"discard arity":          {{"multi"}, {"discard", "x"}, {"exec"}},
	"empty":                  {{"multi"}, {"exec"}},
	"unwatch queued":         {{"multi"}, {"unwatch"}, {"exec"}},
	"connection commands":    {{"multi"}, {"ping"}, {"echo", "x"}, {"select", "0"}, {"client", "setname", "tx"}, {"client", "getname"}, {"exec"}},
	"reset in multi":         {{"multi"}, {"set", "a", "1"}, {"reset"}, {"exec"}, {"get", "a"}},
	"eval in multi":          {{"multi"}, {"eval", "return redis.call('incr', KEYS[1])", "1", "n"}, {"incr", "n"}, {"exec"}},
	"watch arity":            {{"watch"}},
	"watch unchanged":        {{"set", "k", "v"}, {"watch", "k"}, {"multi"}, {"set", "k", "2"}, {"exec"}, {"get", "k"}},
	"watch set":              {{"set", "k", "v"}, {"watch", "k"}, {"set", "k", "v"}, {"multi"}, {"set", "k", "2"}, {"exec"}, {"get", "k"}},
	"watch del":              {{"set", "k", "v"}, {"watch", "k"}, {"del", "k"}, {"multi"}, {"exec"}},
	"watch missing del":      {{"watch", "nokey"}, {"del", "nokey"}, {"multi"}, {"exec"}},
	"watch create delete":    {{"watch", "nokey"}, {"set", "nokey", "1"}, {"del", "nokey"}, {"multi"}, {"exec"}},
	"watch hash field":       {{"hset", "h", "f", "1"}, {"watch", "h"}, {"hset", "h", "g", "2"}, {"multi"}, {"hgetall", "h"}, {"exec"}},
	"watch hdel missing":     {{"hset", "h", "f", "1"}, {"watch", "h"}, {"hdel", "h", "nope"}, {"multi"}, {"hgetall", "h"}, {"exec"}},
	"watch setnx fails":      {{"set", "k", "v"}, {"watch", "k"}, {"setnx", "k", "w"}, {"multi"}, {"get", "k"}, {"exec"}},
	"watch expire":           {{"set", "k", "v"}, {"watch", "k"}, {"expire", "k", "100"}, {"multi"}, {"exec"}},
	"watch flushall":         {{"set", "k", "v"}, {"watch", "k"}, {"flushall"}, {"multi"}, {"exec"}},
	"watch missing flushall": {{"watch", "nokey"}, {"flushall"}, {"multi"}, {"exec"}},
	"watch then unwatch":     {{"set", "k", "v"}, {"watch", "k"}, {"unwatch"}, {"set", "k", "2"}, {"multi"}, {"exec"}},
	"watch then discard":     {{"set", "k", "v"}, {"watch", "k"}, {"multi"}, {"discard"}, {"set", "k", "2"}, {"multi"}, {"exec"}},
	"watch then reset":       {{"set", "k", "v"}, {"watch", "k"}, {"reset"}, {"set", "k", "2"}, {"multi"}, {"exec"}},
	"watch twice":            {{"set", "k", "v"}, {"watch", "k"}, {"watch", "k", "j"}, {"multi"}, {"set", "k", "3"}, {"exec"}},
	"watch cleared by exec":  {{"watch", "k"}, {"multi"}, {"set", "k", "3"}, {"exec"}, {"set", "k", "4"}, {"multi"}, {"exec"}},
	"watch cleared by abort": {{"watch", "k"}, {"multi"}, {"foo"}, {"exec"}, {"set", "k", "4"}, {"multi"}, {"exec"}},
	"watch by script":        {{"watch", "k"}, {"eval", "return redis.call('set', KEYS[1], 'x')", "1", "k"}, {"multi"}, {"exec"}},
	"watch incr":             {{"set", "k", "1"}, {"watch", "k"}, {"get", "k"}, {"multi"}, {"incr", "k"}, {"exec"}},
	"resp3 nil":              {{"~hello", "3"}, {"watch", "a"}, {"set", "a", "1"}, {"multi"}, {"exec"}},
	"resp3 replies":          {{"~hello", "3"}, {"hset", "h", "f", "1"}, {"multi"}, {"hgetall", "h"}, {"get", "nokey"}, {"incr", "h"}, {"exec"}},
	"hello in multi":         {{"multi"}, {"~hello", "3"}, {"get", "nokey"}, {"~exec"}, {"get", "nokey"}}, // HELLO names the server
	"auth without password":  {{"multi"}, {"auth", "x"}, {"exec"}},
}

// txAuthCases run against servers with the password "pw".
var txAuthCases = map[string][][]string{
	"exec unauthenticated":    {{"exec"}},
	"multi unauthenticated":   {{"multi"}},
	"discard unauthenticated": {{"discard"}},
	"watch unauthenticated":   {{"watch", "a"}},
	"exec arity unauth":       {{"exec", "x"}},
	"auth queued":             {{"auth", "pw"}, {"multi"}, {"auth", "bad"}, {"set", "a", "1"}, {"exec"}, {"get", "a"}},
	"reset in multi":          {{"auth", "pw"}, {"multi"}, {"reset"}, {"get", "a"}, {"exec"}},
}

func TestTxRepliesAsRedis(t *testing.T) {
	compareTx(t, Config{}, nil, txCases)
}

func TestTxRepliesAsRedisAuth(t *testing.T) {
	compareTx(t, Config{Password: "pw"}, []string{"--requirepass", "pw"}, txAuthCases)
}

func compareTx(t *testing.T, cfg Config, redisArgs []string, cases map[string][][]string) {
	sock := startRedisServer(t, redisArgs...)
	n := startNode(t, cfg)
	flush := func(network, addr string) {
		c := dialRESP(t, network, addr)
		if cfg.Password != "" {
			c.do("auth", cfg.Password)
		}
		if got := c.do("flushall"); got != "+OK\r\n" {
			t.Fatalf("flushall: %q", got)
		}
	}
	for name, seq := range cases {
		t.Run(name, func(t *testing.T) {
			flush("unix", sock)
			flush("tcp", n.addr)
			theirs := dialRESP(t, "unix", sock)
			ours := dialRESP(t, "tcp", n.addr)
			compareReplies(t, ours, theirs, seq, (*respConn).do, nil)
		})
	}
}
