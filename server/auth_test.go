package server

import (
	"bufio"
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestAuth(t *testing.T) {
	n := startNode(t, Config{Password: "s3cret"})
	ctx := context.Background()
	protocols(t, func(t *testing.T, proto int) {
		good := n.client(t, proto, func(o *redis.Options) { o.Password = "s3cret" })
		if err := good.HSet(ctx, "k", "f", "v").Err(); err != nil {
			t.Fatalf("with the password: %v", err)
		}
		bad := n.client(t, proto, func(o *redis.Options) { o.Password = "wrong" })
		if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Fatalf("with a wrong password: err = %v, want WRONGPASS", err)
		}
		none := n.client(t, proto)
		if err := none.Get(ctx, "k").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
			t.Fatalf("without a password: err = %v, want NOAUTH", err)
		}
	})

	t.Run("raw", func(t *testing.T) {
		conn := n.dial(t)
		r := bufio.NewReader(conn)
		steps := []struct{ send, want string }{
			{"PING\r\n", "-NOAUTH Authentication required."},
			{"HGET k f\r\n", "-NOAUTH Authentication required."},
			{"AUTH wrong\r\n", "-WRONGPASS invalid username-password pair or user is disabled."},
			{"AUTH someone s3cret\r\n", "-WRONGPASS invalid username-password pair or user is disabled."},
			{"AUTH default s3cret\r\n", "+OK"},
			{"HGET k f\r\n", "$1"},
			{"", "v"},
			{"RESET\r\n", "+RESET"},
			{"PING\r\n", "-NOAUTH Authentication required."},
			{"AUTH s3cret\r\n", "+OK"},
			{"PING\r\n", "+PONG"},
		}
		for _, s := range steps {
			if s.send != "" {
				if _, err := conn.Write([]byte(s.send)); err != nil {
					t.Fatal(err)
				}
			}
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: %v", s.send, err)
			}
			if got := strings.TrimRight(line, "\r\n"); got != s.want {
				t.Fatalf("after %q: got %q, want %q", s.send, got, s.want)
			}
		}
	})

	t.Run("unauthenticated limits", func(t *testing.T) {
		// Before AUTH, Redis refuses big requests: a client that knows no
		// password cannot make the server buffer megabytes.
		conn := n.dial(t)
		conn.Write([]byte("*2\r\n$4\r\nECHO\r\n$100000\r\n"))
		r := bufio.NewReader(conn)
		line, _ := r.ReadString('\n')
		if !strings.HasPrefix(line, "-ERR Protocol error: unauthenticated bulk length") {
			t.Fatalf("got %q", line)
		}
	})
}
