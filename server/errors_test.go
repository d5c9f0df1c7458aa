package server

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestErrorReplies(t *testing.T) {
	n := startNode(t, Config{MaxValueSize: 1024})
	n.eachProtocol(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		c.Set(ctx, "str", "v", 0)
		c.HSet(ctx, "hash", "f", "v")
		cases := []struct {
			name string
			cmd  []any
			want string // the whole error, or a prefix ending in "*"
		}{
			{"hash command on a string", []any{"HSET", "str", "f", "v"}, msgWrongType},
			{"HGET on a string", []any{"HGET", "str", "f"}, msgWrongType},
			{"HGETALL on a string", []any{"HGETALL", "str"}, msgWrongType},
			{"GET on a session", []any{"GET", "hash"}, msgWrongType},
			{"SET GET on a session", []any{"SET", "hash", "v", "GET"}, msgWrongType},
			{"prop on a string", []any{"SESSION.PROPSET", "str", "p", "v"}, msgWrongType},
			{"arity HGET", []any{"HGET", "hash"}, "ERR wrong number of arguments for 'hget' command"},
			{"arity HSET odd", []any{"HSET", "hash", "f", "v", "g"}, "ERR wrong number of arguments for 'hset' command"},
			{"arity GET", []any{"GET"}, "ERR wrong number of arguments for 'get' command"},
			{"arity session", []any{"session.propset", "a", "b"}, "ERR wrong number of arguments for 'session.propset' command"},
			{"unknown", []any{"FOO", "bar", "baz"}, "ERR unknown command 'FOO', with args beginning with: 'bar' 'baz'"},
			{"unknown no args", []any{"NOPE"}, "ERR unknown command 'NOPE', with args beginning with:"},
			{"syntax", []any{"SET", "k", "v", "XX", "NX"}, "ERR syntax error"},
			{"not an integer", []any{"EXPIRE", "str", "soon"}, msgNotInteger},
			{"select", []any{"SELECT", "1"}, "ERR DB index is out of range: gridnode has one database, 0"},
			{"too large", []any{"HSET", "hash", "big", strings.Repeat("x", 1025)}, "TOOLARGE *"},
			{"too large string", []any{"SET", "k", strings.Repeat("x", 1025)}, "TOOLARGE *"},
			{"empty id", []any{"HGET", "", "f"}, "INVALIDID *"},
			{"empty key", []any{"GLOBAL.SET", "", "v"}, "INVALIDKEY *"},
			{"auth without password", []any{"AUTH", "pw"}, "ERR AUTH <password> called without any password configured*"},
			{"hello bad proto", []any{"HELLO", "4"}, "NOPROTO unsupported protocol version"},
			{"client unknown", []any{"CLIENT", "FLY"}, "ERR unknown subcommand or wrong number of arguments for 'FLY'*"},
		}
		for _, tc := range cases {
			err := c.Do(ctx, tc.cmd...).Err()
			if err == nil {
				t.Errorf("%s: no error", tc.name)
				continue
			}
			got := err.Error()
			if p, ok := strings.CutSuffix(tc.want, "*"); ok {
				if !strings.HasPrefix(got, p) {
					t.Errorf("%s: error %q, want prefix %q", tc.name, got, p)
				}
			} else if strings.TrimSpace(got) != tc.want {
				t.Errorf("%s: error %q, want %q", tc.name, got, tc.want)
			}
		}
		// Nothing was changed by the failed commands.
		if got, err := c.Get(ctx, "str").Result(); err != nil || got != "v" {
			t.Fatalf("string changed: %q, %v", got, err)
		}
		if got, err := c.HGetAll(ctx, "hash").Result(); err != nil || !mapsEqual(got, map[string]string{"f": "v"}) {
			t.Fatalf("hash changed: %v, %v", got, err)
		}
		// The connection is still usable after every error.
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestUnknownCommandArgsClipped checks the long-argument case of the
// unknown-command error.
func TestUnknownCommandArgsClipped(t *testing.T) {
	n := startNode(t, Config{})
	c := n.client(t, 2)
	err := c.Do(context.Background(), "nope", strings.Repeat("a", 500), "b\r\nc").Err()
	if err == nil {
		t.Fatal("no error")
	}
	if got := err.Error(); len(got) > 300 || strings.ContainsAny(got, "\r\n") {
		t.Fatalf("error not clipped or not one line: %q", got)
	}
}
