package main

import (
	"io"
	"strings"
	"testing"
)

// TestPubsubFlags: --notify-keyspace-events takes Redis's letters (and
// refuses others), --pubsub-output-limit a positive size; both reach the
// server's configuration, from flags or the environment.
func TestPubsubFlags(t *testing.T) {
	o, err := parseOptions(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := o.serverConfig(nil); cfg.NotifyKeyspaceEvents != "" || cfg.PubsubOutputLimit != 32<<20 {
		t.Fatalf("defaults: notify %q, limit %d", cfg.NotifyKeyspaceEvents, cfg.PubsubOutputLimit)
	}
	o, err = parseOptions([]string{"--notify-keyspace-events", "KEA", "--pubsub-output-limit", "8MiB"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := o.serverConfig(nil); cfg.NotifyKeyspaceEvents != "KEA" || cfg.PubsubOutputLimit != 8<<20 {
		t.Fatalf("flags: notify %q, limit %d", cfg.NotifyKeyspaceEvents, cfg.PubsubOutputLimit)
	}
	o, err = parseOptions(nil, env(map[string]string{"GRIDNODE_NOTIFY_KEYSPACE_EVENTS": "Ex"}), io.Discard)
	if err != nil || o.notifyEvents != "Ex" {
		t.Fatalf("environment: %q, %v", o.notifyEvents, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--notify-keyspace-events", "KEQ"}, "Invalid event class character"},
		{[]string{"--pubsub-output-limit", "0"}, "--pubsub-output-limit"},
		{[]string{"--pubsub-output-limit", "lots"}, "not a size"},
	} {
		if _, err := parseOptions(tc.args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
}
