package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readme returns the project README.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// gridnodeFlags returns gridnode's flags (the ones --help lists) with their
// defaults, and the flags of `gridnode health`.
func gridnodeFlags() map[string]string {
	flags := map[string]string{}
	newFlagSet(&options{}, io.Discard).VisitAll(func(f *flag.Flag) { flags[f.Name] = f.DefValue })
	for _, name := range []string{"http-addr", "timeout"} { // gridnode health
		if _, ok := flags[name]; !ok {
			flags[name] = ""
		}
	}
	return flags
}

// otherTools are flags the README shows on other programs' command lines.
var otherTools = map[string]string{
	"port":     "resp_vs_redis.py, redis-cli, redis-server",
	"pipe":     "redis-cli",
	"help":     "gridnode --help (handled by the flag package)",
	"tls":      "redis-cli, redis-benchmark",
	"cacert":   "redis-cli, redis-benchmark",
	"cert":     "redis-cli, redis-benchmark",
	"key":      "redis-cli, redis-benchmark",
	"insecure": "redis-cli",
}

// TestReadmeFlagsExist keeps the README's flags true: every --flag it
// mentions is one of gridnode's (or of a tool listed in otherTools), and
// every GRIDNODE_* variable it names belongs to a flag or a *_FILE secret.
func TestReadmeFlagsExist(t *testing.T) {
	text, flags := readme(t), gridnodeFlags()
	for _, m := range regexp.MustCompile(`(?:^|[\s\x60(\[|])--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(text, -1) {
		name := m[1]
		if _, ok := flags[name]; ok {
			continue
		}
		if _, ok := otherTools[name]; ok {
			continue
		}
		t.Errorf("README mentions --%s, which gridnode does not have (gridnode --help)", name)
	}
	for _, m := range regexp.MustCompile(`GRIDNODE_[A-Z0-9_]*[A-Z0-9*]`).FindAllString(text, -1) {
		name := strings.TrimPrefix(m, "GRIDNODE_")
		flagName := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		if _, ok := flags[flagName]; ok || name == "*" {
			continue
		}
		if prefix, ok := strings.CutSuffix(flagName, "-*"); ok && hasPrefix(flags, prefix+"-") {
			continue
		}
		if base := strings.TrimSuffix(flagName, "-file"); base != flagName {
			if _, ok := flags[base]; ok {
				continue
			}
		}
		if usedByComposeFiles(t, m) {
			continue
		}
		t.Errorf("README names %s, which is no gridnode setting (nor a variable of the compose files)", m)
	}
}

// TestReadmeDefaultAddresses keeps the addresses the README gives for a node
// started without flags equal to the flags' defaults.
func TestReadmeDefaultAddresses(t *testing.T) {
	text, flags := readme(t), gridnodeFlags()
	claims := []struct {
		pattern, flag string
	}{
		{"RESP on `([^`]+)`", "addr"},
		{"HTTP ops on `([^`]+)`", "http-addr"},
		{`standalone node: RESP (\S+),`, "addr"},
		{`standalone node: RESP \S+, HTTP (\S+)`, "http-addr"},
		{`Ports: gossip (\d+)`, "gossip-addr"},
		{`internal transport (\d+), Raft`, "transport-addr"},
		{`internal transport \d+, Raft (\d+)`, "raft-addr"},
	}
	for _, c := range claims {
		m := regexp.MustCompile(c.pattern).FindStringSubmatch(text)
		if m == nil {
			t.Errorf("README no longer says %q; update this test with the README", c.pattern)
			continue
		}
		def := flags[c.flag]
		if m[1] != def && !strings.HasSuffix(def, ":"+m[1]) {
			t.Errorf("README says %s for --%s; its default is %s", m[1], c.flag, def)
		}
	}
}

// hasPrefix reports whether a flag's name starts with prefix.
func hasPrefix(flags map[string]string, prefix string) bool {
	for name := range flags {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// usedByComposeFiles reports whether a compose file of the repository uses
// the variable name (as ${NAME} or ${NAME:-default}).
func usedByComposeFiles(t *testing.T, name string) bool {
	t.Helper()
	files, err := filepath.Glob("../../docker-compose*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no compose files: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "${"+name+"}") || strings.Contains(string(b), "${"+name+":") {
			return true
		}
	}
	return false
}
