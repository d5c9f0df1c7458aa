package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// splitBackend pretends keys starting with "r:" live on another member: a
// second server (the "owner") runs them, as a grid member would.
type splitBackend struct {
	Backend
	owner    *testNode
	forwards atomic.Int64
	fail     atomic.Bool
}

func (b *splitBackend) RemoteOwner(key []byte) string {
	if strings.HasPrefix(string(key), "r:") {
		return "owner"
	}
	return ""
}

func (b *splitBackend) Forward(_ context.Context, owner string, proto int, cmds [][][]byte) ([][]byte, error) {
	b.forwards.Add(1)
	if b.fail.Load() {
		return nil, errors.New("link down")
	}
	out := make([][]byte, len(cmds))
	for i, c := range cmds {
		out[i] = b.owner.srv.Exec(proto, c)
	}
	return out, nil
}

// TestPipelinedForwarding: a pipeline mixing local and remote keys gets
// every reply in request order, each remote owner is asked once per batch,
// a client reads its own writes on a remote key within one pipeline, and a
// failed forward is reported per command as UNAVAILABLE, never as success.
func TestPipelinedForwarding(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprint("RESP", proto), func(t *testing.T) {
			owner := startNode(t, Config{})
			var sb *splitBackend
			n := startNodeWith(t, func(b Backend) Backend {
				sb = &splitBackend{Backend: b, owner: owner}
				return sb
			})
			ctx := context.Background()
			c := n.client(t, proto)
			pipe := c.Pipeline()
			for i := 0; i < 20; i++ {
				pipe.HSet(ctx, fmt.Sprint("r:", i), "n", i)
				pipe.HSet(ctx, fmt.Sprint("l:", i), "n", i)
				pipe.HGet(ctx, fmt.Sprint("r:", i), "n")
			}
			pipe.Ping(ctx) // not batchable: runs after the batch
			cmds, err := pipe.Exec(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 20; i++ {
				if v, err := cmds[3*i+2].(interface{ Result() (string, error) }).Result(); err != nil || v != fmt.Sprint(i) {
					t.Fatalf("HGET r:%d in the pipeline = %q, %v", i, v, err)
				}
			}
			if sb.forwards.Load() == 0 || sb.forwards.Load() > 5 {
				t.Fatalf("%d forwards for one pipeline of 40 remote commands", sb.forwards.Load())
			}
			// The remote keys are on the owner, the local ones here.
			if v, _ := owner.store.Get(ctx, "r:7", "n"); string(v) != "7" {
				t.Fatalf("r:7 on the owner = %q", v)
			}
			if _, err := n.store.Get(ctx, "r:7", "n"); err == nil {
				t.Fatal("remote key written locally")
			}
			if v, _ := n.store.Get(ctx, "l:7", "n"); string(v) != "7" {
				t.Fatalf("l:7 here = %q", v)
			}
			sb.fail.Store(true)
			pipe = c.Pipeline()
			pipe.HSet(ctx, "r:x", "n", 1)
			pipe.HSet(ctx, "l:x", "n", 1)
			res, _ := pipe.Exec(ctx)
			if err := res[0].Err(); err == nil || !strings.HasPrefix(err.Error(), "UNAVAILABLE") {
				t.Fatalf("failed forward reported as %v", err)
			}
			if err := res[1].Err(); err != nil {
				t.Fatalf("local command of the batch: %v", err)
			}
		})
	}
}

func TestExecRefusesConnectionCommands(t *testing.T) {
	n := startNode(t, Config{})
	for _, args := range [][]string{{"AUTH", "x"}, {"CLIENT", "LIST"}, {"QUIT"}, {"KEYS", "*"}, {"NOPE"}} {
		b := make([][]byte, len(args))
		for i, a := range args {
			b[i] = []byte(a)
		}
		if r := string(n.srv.Exec(2, b)); !strings.HasPrefix(r, "-ERR") {
			t.Fatalf("Exec(%v) = %q", args, r)
		}
	}
	if r := string(n.srv.Exec(2, [][]byte{[]byte("HSET"), []byte("u"), []byte("k"), []byte("v")})); r != ":1\r\n" {
		t.Fatalf("Exec HSET = %q", r)
	}
}

// TestPipelinedUnauthenticatedGetsNOAUTH: with a password set and a backend
// that forwards, a pipeline of data commands sent before AUTH, on keys
// another member owns and on local keys, gets NOAUTH for each command and
// writes nothing anywhere: no command is forwarded, no key is created on
// the owner or here. The test fails if the pipelined batch path
// (batchable) stops checking authentication.
func TestPipelinedUnauthenticatedGetsNOAUTH(t *testing.T) {
	owner := startNode(t, Config{})
	var sb *splitBackend
	n := newTestNode(t, Config{Password: "s3cret"}, func(b Backend) Backend {
		sb = &splitBackend{Backend: b, owner: owner}
		return sb
	})
	conn := n.dial(t)
	r := bufio.NewReader(conn)
	// One write: the requests are buffered together, as a pipeline.
	cmds := [][]string{
		{"HSET", "r:1", "f", "v"},
		{"HSET", "r:2", "f", "v"},
		{"SET", "r:3", "v"},
		{"HSET", "l:1", "f", "v"},
		{"HSET", "r:4", "f", "v"},
	}
	var req bytes.Buffer
	for _, c := range cmds {
		req.Write(encodeCommand(c))
	}
	req.WriteString("PING\r\n")
	if _, err := conn.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	for _, c := range cmds {
		if got := readReply(t, r); got != "-NOAUTH Authentication required." {
			t.Fatalf("%v before AUTH, pipelined: got %q, want NOAUTH", c, got)
		}
	}
	if got := readReply(t, r); got != "-NOAUTH Authentication required." {
		t.Fatalf("PING before AUTH: got %q, want NOAUTH", got)
	}
	if f := sb.forwards.Load(); f != 0 {
		t.Fatalf("%d forwards for unauthenticated commands", f)
	}
	ctx := context.Background()
	for name, node := range map[string]*testNode{"the owner": owner, "this member": n} {
		if keys, err := node.store.Len(ctx); err != nil || keys != 0 {
			t.Fatalf("an unauthenticated pipeline wrote %d keys on %s (%v)", keys, name, err)
		}
	}
}
