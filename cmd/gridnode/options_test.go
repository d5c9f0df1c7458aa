package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	o, err := parseOptions(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != "127.0.0.1:6379" || o.httpAddr != "127.0.0.1:9379" {
		t.Fatalf("default addresses %q %q", o.addr, o.httpAddr)
	}
	if o.sessionIdle != 30*time.Minute || o.maxClients != 10000 || o.maxValueBytes != 8<<20 ||
		o.maxRequestBytes != 64<<20 || o.idleTimeout != 0 || o.shards != 64 || o.touchOnRead ||
		o.logLevel != "info" || o.logFormat != "text" || o.password != "" {
		t.Fatalf("defaults: %+v", o)
	}
}

func TestFlagsAndEnvironment(t *testing.T) {
	e := env(map[string]string{
		"GRIDNODE_ADDR":            "127.0.0.1:7000",
		"GRIDNODE_MAX_CLIENTS":     "5",
		"GRIDNODE_TOUCH_ON_READ":   "true",
		"GRIDNODE_SESSION_IDLE":    "3m",
		"GRIDNODE_MAX_VALUE_BYTES": "1MiB",
		"GRIDNODE_PASSWORD":        "from-env",
	})
	o, err := parseOptions([]string{"--addr", "127.0.0.1:7001", "--password=flag", "--log-format", "json"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != "127.0.0.1:7001" || o.password != "flag" {
		t.Errorf("the flag must win over the environment: addr %q password %q", o.addr, o.password)
	}
	if o.maxClients != 5 || !o.touchOnRead || o.sessionIdle != 3*time.Minute || o.maxValueBytes != 1<<20 {
		t.Errorf("environment not applied: %+v", o)
	}
	if o.logFormat != "json" {
		t.Errorf("log format %q", o.logFormat)
	}
}

func TestBadConfiguration(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--max-clients", "0"}, nil, "--max-clients"},
		{[]string{"--max-clients", "many"}, nil, "invalid value"},
		{[]string{"--shards", "3"}, nil, "power of two"},
		{[]string{"--addr", "nowhere"}, nil, "--addr"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{[]string{"--log-format", "xml"}, nil, "--log-format"},
		{[]string{"--session-idle", "-1s"}, nil, "--session-idle"},
		{[]string{"--max-value-bytes", "2MiB", "--max-request-bytes", "1MiB"}, nil, "MaxValueSize"},
		{[]string{"--max-request-bytes", "lots"}, nil, "not a size"},
		{[]string{"--bogus"}, nil, "flag provided but not defined"},
		{[]string{"extra"}, nil, "unexpected argument"},
		{nil, map[string]string{"GRIDNODE_IDLE_TIMEOUT": "soon"}, "GRIDNODE_IDLE_TIMEOUT"},
		{nil, map[string]string{"GRIDNODE_SHARDS": "6"}, "power of two"},
	}
	for _, tc := range cases {
		_, err := parseOptions(tc.args, env(tc.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: err = %v, want it to mention %q", tc.args, tc.env, err, tc.want)
		}
	}
	if _, err := parseOptions([]string{"--help"}, env(nil), io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: err = %v", err)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int{
		"1024": 1024, "64k": 64 << 10, "64KiB": 64 << 10, "8MB": 8 << 20, "8m": 8 << 20, "1GiB": 1 << 30, "10b": 10,
	} {
		var b byteSize
		if err := b.Set(in); err != nil || int(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.5M", "3TB", "4GiB", "x"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) accepted: %d", in, b)
		}
	}
	b := byteSize(64 << 20)
	if b.String() != "64MiB" {
		t.Errorf("String = %q", b.String())
	}
}

func TestHelpListsEveryFlag(t *testing.T) {
	var out strings.Builder
	var o options
	fs := newFlagSet(&o, &out)
	fs.Usage()
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(out.String(), "--"+f.Name+"\n") || !strings.Contains(out.String(), envName(f.Name)) {
			t.Errorf("help lacks --%s or %s", f.Name, envName(f.Name))
		}
	})
	for _, name := range []string{"addr", "http-addr", "password", "max-clients", "max-request-bytes", "max-value-bytes",
		"idle-timeout", "session-idle", "touch-on-read", "log-level", "log-format", "shards"} {
		if fs.Lookup(name) == nil {
			t.Errorf("no --%s flag", name)
		}
	}
}

// TestBackupFlags: the backup counts are cluster-mode settings; standalone
// refuses them with a clear message, and the bounds are checked.
func TestBackupFlags(t *testing.T) {
	none := func(string) string { return "" }
	if _, err := parseOptions([]string{"--backup-count", "2"}, none, io.Discard); err == nil || !strings.Contains(err.Error(), "cluster mode only") {
		t.Fatalf("standalone with --backup-count: %v", err)
	}
	env := func(k string) string {
		if k == "GRIDNODE_ASYNC_BACKUP_COUNT" {
			return "1"
		}
		return ""
	}
	if _, err := parseOptions(nil, env, io.Discard); err == nil {
		t.Fatal("standalone with GRIDNODE_ASYNC_BACKUP_COUNT accepted")
	}
	o, err := parseOptions([]string{"--bootstrap-expect", "1", "--backup-count", "2", "--async-backup-count", "1"}, none, io.Discard)
	if err != nil || o.cluster.backups != 2 || o.cluster.asyncBackups != 1 {
		t.Fatalf("cluster mode: %+v, %v", o.cluster, err)
	}
	if _, err := parseOptions([]string{"--bootstrap-expect", "1", "--backup-count", "5", "--async-backup-count", "2"}, none, io.Discard); err == nil {
		t.Fatal("7 backups accepted")
	}
	o, err = parseOptions([]string{"--bootstrap-expect", "1"}, none, io.Discard)
	if err != nil || o.cluster.backups != 1 {
		t.Fatalf("default backup count in cluster mode: %d, %v", o.cluster.backups, err)
	}
}

func TestSlowlogFlags(t *testing.T) {
	o, err := parseOptions(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c := o.serverConfig(nil); c.SlowlogLogSlowerThan != 10*time.Millisecond || c.SlowlogMaxLen != 128 {
		t.Fatalf("default slow log: %s, %d", c.SlowlogLogSlowerThan, c.SlowlogMaxLen)
	}
	for _, tc := range []struct {
		args   []string
		slower time.Duration
		maxLen int
	}{
		{[]string{"--slowlog-log-slower-than", "0", "--slowlog-max-len", "5"}, time.Nanosecond, 5},
		{[]string{"--slowlog-log-slower-than", "-1", "--slowlog-max-len", "0"}, -1, -1},
		{[]string{"--slowlog-log-slower-than", "250"}, 250 * time.Microsecond, 128},
	} {
		o, err := parseOptions(tc.args, env(nil), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c := o.serverConfig(nil); c.SlowlogLogSlowerThan != tc.slower || c.SlowlogMaxLen != tc.maxLen {
			t.Errorf("%v: %s, %d", tc.args, c.SlowlogLogSlowerThan, c.SlowlogMaxLen)
		}
	}
	if _, err := parseOptions([]string{"--slowlog-max-len", "-1"}, env(nil), io.Discard); err == nil {
		t.Error("--slowlog-max-len -1 accepted")
	}
	if o, err := parseOptions(nil, env(map[string]string{"GRIDNODE_SLOWLOG_MAX_LEN": "7"}), io.Discard); err != nil || o.slowlogMaxLen != 7 {
		t.Errorf("GRIDNODE_SLOWLOG_MAX_LEN: %v, %d", err, o.slowlogMaxLen)
	}
}
