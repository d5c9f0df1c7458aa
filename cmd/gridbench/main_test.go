package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sessiongrid/sessiongrid/server/servertest"

	"go.uber.org/goleak"

	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// readReport runs gridbench with args and returns its JSON report.
func readReport(t *testing.T, args ...string) (*report, string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.json")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), append(args, "-json", path), &stdout, &stderr); err != nil {
		t.Fatalf("gridbench %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, b)
	}
	return &rep, stdout.String(), stderr.String()
}

// checkResult checks the figures of one target's result.
// checkResults checks that rep has n results, each sound (checkResult) and,
// when messages > 0, of exactly that many messages, and returns them.
func checkResults(t *testing.T, rep *report, n int, messages uint64) []*result {
	t.Helper()
	if len(rep.Results) != n {
		t.Fatalf("%d results, want %d", len(rep.Results), n)
	}
	for _, r := range rep.Results {
		checkResult(t, r)
		if messages > 0 && r.Messages != messages {
			t.Errorf("%s: %d messages, want exactly %d", r.Target, r.Messages, messages)
		}
	}
	return rep.Results
}

func checkResult(t *testing.T, r *result) {
	t.Helper()
	if r.Messages == 0 || r.MessagesPerSec <= 0 || r.Errors != 0 {
		t.Fatalf("%s: %d messages (%.0f/s), %d errors (%s)", r.Target, r.Messages, r.MessagesPerSec, r.Errors, r.FirstError)
	}
	if r.OpsPerMessage < 18 || r.OpsPerMessage > 26 {
		t.Errorf("%s: %.1f ops per message, want about 21.7", r.Target, r.OpsPerMessage)
	}
	for _, op := range []string{"get", "save", "exists", "evict"} {
		l, ok := r.PerOp[op]
		if !ok || l.Count == 0 {
			t.Errorf("%s: no %s measured", r.Target, op)
			continue
		}
		if !(l.P50 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) || l.P50 <= 0 {
			t.Errorf("%s: %s quantiles out of order: %+v", r.Target, op, l)
		}
	}
	var perOp uint64
	for _, l := range r.PerOp {
		perOp += l.Count
	}
	if perOp != r.Ops || r.Message.Count != r.Messages {
		t.Errorf("%s: per-op counts add up to %d, ops %d; message count %d, messages %d", r.Target, perOp, r.Ops, r.Message.Count, r.Messages)
	}
}

// TestSmokeMemory runs the memory target for a second.
func TestSmokeMemory(t *testing.T) {
	rep, stdout, stderr := readReport(t, "-target", "memory", "-duration", "1500ms", "-warmup", "200ms", "-sessions", "2000", "-clients", "4")
	r := checkResults(t, rep, 1, 0)[0]
	if r.Seconds < 1.4 || r.Seconds > 3 {
		t.Errorf("measured %.2fs, want about 1.5s", r.Seconds)
	}
	if r.DistinctUsers < 10 || r.DistinctUsers > 2000 {
		t.Errorf("%d distinct users", r.DistinctUsers)
	}
	if !strings.Contains(stdout, "== memory") || !strings.Contains(stdout, "p99.9") {
		t.Errorf("no result table on stdout:\n%s", stdout)
	}
	if !strings.Contains(stderr, "[memory] preloaded 2000 sessions") || !strings.Contains(stderr, "msg/s") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
	if rep.Config.Sessions != 2000 || rep.Config.Clients != 4 || rep.GoVersion == "" {
		t.Errorf("report config not filled: %+v", rep.Config)
	}
}

// TestServerTargets runs the remote and redis targets against a gridnode
// server in-process, in one invocation, and checks that the benchmark's
// sessions are removed afterwards.
func TestServerTargets(t *testing.T) {
	// The server logs nothing: the report's stdout is parsed below.
	srv := servertest.Start(t, servertest.Options{
		Config: server.Config{Logger: slog.New(slog.DiscardHandler)},
		Store:  memory.Config{SweepInterval: -1, Logger: slog.New(slog.DiscardHandler)},
	})
	addr, store := srv.Addr, srv.Store

	rep, stdout, _ := readReport(t, "-targets", "remote="+addr+",redis="+addr+",redisstore+gridnode="+addr, "-messages", "200",
		"-sessions", "200", "-clients", "4", "-progress=false")
	for _, r := range checkResults(t, rep, 3, 200) {
		if r.ServerPID != os.Getpid() || r.ServerCPUPerMessage <= 0 {
			t.Errorf("%s: server pid %d (want ours, %d), CPU %.1f µs/message", r.Target, r.ServerPID, os.Getpid(), r.ServerCPUPerMessage)
		}
	}
	if !strings.Contains(stdout, "== comparison") || !strings.Contains(stdout, "redis@"+addr) {
		t.Errorf("no comparison table:\n%s", stdout)
	}
	if n, _ := store.Len(context.Background()); n != 0 {
		t.Errorf("%d keys left on the server after -cleanup", n)
	}
}

func TestFlagErrors(t *testing.T) {
	bad := [][]string{
		{},
		{"-target", "nosuch"},
		{"-target", "memory", "-targets", "memory"},
		{"-targets", "remote"},
		{"-targets", "redis=nohost"},
		{"-targets", "memory=1.2.3.4:5"},
		{"-target", "memory", "-clients", "0"},
		{"-target", "memory", "-sessions", "10", "-clients", "11"},
		{"-target", "memory", "-zipf", "1"},
		{"-target", "memory", "-resp", "4"},
		{"-target", "memory", "-duration", "0"},
		{"-target", "memory", "-prop-rate", "2"},
		{"-target", "memory", "extra"},
		{"-targets", "file+bogus"},
		{"-targets", "memory+nosync"},
		{"-targets", "bolt+nosync+nosync"},
		{"-targets", "cache=10"},
		{"-targets", "redisstore"},
		{"-targets", "redisstore+gridnode"},
		{"-targets", "remote=/tmp/sock"},
		{"-targets", "file="},
		{"-target", "memory", "-population", "file=10"},
		{"-target", "file", "-population", "file=0"},
		{"-target", "file", "-population", "file"},
		{"-target", "file", "-population", "file=5,file=6"},
		{"-target", "file", "-population", "file=2", "-clients", "4"},
	}
	for _, args := range bad {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) accepted bad flags", args)
		}
	}
	o, err := parseFlags([]string{"-targets", "memory, remote=127.0.0.1:6380,redis=127.0.0.1:6379"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, s := range o.Targets {
		labels = append(labels, s.Label)
	}
	if got := strings.Join(labels, " "); got != "memory remote@127.0.0.1:6380 redis@127.0.0.1:6379" {
		t.Errorf("targets = %s", got)
	}
	o, err = parseFlags([]string{"-target", "redis", "-addr", "127.0.0.1:7000"}, &bytes.Buffer{})
	if err != nil || len(o.Targets) != 1 || o.Targets[0].Addr != "127.0.0.1:7000" {
		t.Errorf("-target redis -addr: %+v, %v", o.Targets, err)
	}
	o, err = parseFlags([]string{"-target", "redisstore+gridnode", "-addr", "127.0.0.1:7000"}, &bytes.Buffer{})
	if err != nil || len(o.Targets) != 1 || o.Targets[0].Label != "redisstore+gridnode@127.0.0.1:7000" {
		t.Errorf("-target redisstore+gridnode -addr: %+v, %v", o.Targets, err)
	}
	o, err = parseFlags([]string{"-targets", "file,file+nosync=/data/s,bolt+batch+nosync,cache,redisstore=/run/redis.sock",
		"-sessions", "1000", "-population", "file=50,file+nosync=70,bolt+batch+nosync=80"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	labels = labels[:0]
	var pops []int
	for _, s := range o.Targets {
		labels = append(labels, s.Label)
		pops = append(pops, o.population(s))
	}
	if got := strings.Join(labels, " "); got != "file file+nosync@/data/s bolt+batch+nosync cache redisstore@/run/redis.sock" {
		t.Errorf("targets = %s", got)
	}
	if got := fmt.Sprint(pops); got != "[50 70 80 1000 1000]" {
		t.Errorf("populations = %s, want [50 70 80 1000 1000]", got)
	}
	if s := o.Targets[1]; s.Path != "/data/s" || !s.has(optNoSync) || s.Kind != kindFile {
		t.Errorf("file+nosync=/data/s parsed as %+v", s)
	}
}

// TestUnreachableTarget checks that a dead server fails that target with a
// clear error and the others still run.
func TestUnreachableTarget(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"-targets", "redis=" + dead + ",memory", "-messages", "50", "-sessions", "100",
		"-clients", "2", "-progress=false"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), dead) {
		t.Errorf("run with a dead target: %v, want an error naming %s", err, dead)
	}
	if !strings.Contains(stdout.String(), "== memory") {
		t.Errorf("the memory target did not run after the dead one:\n%s", stdout.String())
	}
}

// TestRounds checks that -rounds splits the work and adds the rounds up.
func TestRounds(t *testing.T) {
	rep, _, stderr := readReport(t, "-targets", "memory,memory", "-messages", "301", "-rounds", "3",
		"-sessions", "500", "-clients", "3")
	for _, r := range checkResults(t, rep, 2, 301) {
		if r.Rounds != 3 {
			t.Errorf("%s: %d rounds, want 3", r.Target, r.Rounds)
		}
	}
	if rep.Config.Rounds != 3 {
		t.Errorf("config rounds = %d", rep.Config.Rounds)
	}
	_ = stderr
}
