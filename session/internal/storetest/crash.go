package storetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// The crash test runs the test binary again as a child (the backend's
// TestCrashChild, calling CrashChild) that writes to a store as fast as it
// can and prints every write it starts (BEGIN) and every write acknowledged
// to it (ACK). The parent SIGKILLs it in the middle, reopens the store and
// checks that every acknowledged write is there with its value, that a
// write in flight is either fully there or not at all, and that nothing is
// corrupt (the store's Check). Three rounds, each killing a new child on
// the same storage.
const (
	crashAtEnv    = "SESSIONGRID_STORETEST_CRASH_AT"
	crashRoundEnv = "SESSIONGRID_STORETEST_CRASH_ROUND"
	crashWorkers  = 4
	crashRounds   = 3
	crashAcks     = 200 // acknowledged writes before the kill, per round
)

// CrashChild is the body of the TestCrashChild function that a backend
// using RunCrash must have. In a normal run it returns at once. In the child
// RunCrash starts, it opens the store at the location the parent gave with
// open, which must make every acknowledged write durable (fsync on), and
// writes until the parent kills it.
func CrashChild(open func(at string) (session.Store, error)) {
	at := os.Getenv(crashAtEnv)
	if at == "" {
		return
	}
	s, err := open(at)
	if err != nil {
		fmt.Printf("ERR open %v\n", err)
		os.Exit(1)
	}
	runCrashWriters(s, os.Getenv(crashRoundEnv))
}

// RunCrash runs the crash test on the storage at location at (a path or a
// directory, as CrashChild's open takes it). After each killed child it
// opens the store with reopen, checks it and closes it.
func RunCrash(t *testing.T, at string, reopen func() Store) {
	st := &crashState{acked: map[crashKey]string{}, pending: map[crashKey]string{}}
	for round := range crashRounds {
		crashRound(t, st, []string{crashAtEnv + "=" + at, fmt.Sprintf("%s=%d", crashRoundEnv, round)})
		// The kernel released the dead child's lock: reopening works.
		s := reopen()
		verifyCrash(t, s, st)
		n, err := s.Check(context.Background())
		if err != nil {
			t.Fatalf("round %d: Check: %v", round, err)
		}
		if n == 0 {
			t.Fatalf("round %d: Check found no records", round)
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			return
		}
	}
}

// runCrashWriters writes until the process is killed. Each line goes out in
// one write(2) of less than PIPE_BUF bytes, so lines never interleave.
func runCrashWriters(s session.Store, round string) {
	var mu sync.Mutex
	emit := func(format string, args ...any) {
		mu.Lock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
		mu.Unlock()
	}
	ctx := context.Background()
	for w := range crashWorkers {
		go func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("w%d-s%d", w, i%10)
				v := fmt.Sprintf("r%s-w%d-%d", round, w, i)
				var kind, keys string
				var err error
				switch i % 4 {
				case 0, 1:
					kind, keys = "data", fmt.Sprintf("k%d,stage", i%3)
					emit("BEGIN %s %s %s %s", kind, id, keys, v)
					_, err = s.Save(ctx, id,
						session.Field{Key: fmt.Sprintf("k%d", i%3), Value: []byte(v)},
						session.Field{Key: "stage", Value: []byte(v)})
				case 2:
					kind, keys = "prop", "p"
					emit("BEGIN %s %s %s %s", kind, id, keys, v)
					err = s.SaveProp(ctx, id, "p", []byte(v))
				case 3:
					kind, id, keys = "global", fmt.Sprintf("g%d", w), "-"
					emit("BEGIN %s %s %s %s", kind, id, keys, v)
					err = s.SaveGlobal(ctx, id, []byte(v))
				}
				if err != nil {
					emit("ERR %s %s %v", kind, id, err)
					return
				}
				emit("ACK %s %s %s %s", kind, id, keys, v)
			}
		}()
	}
	select {} // until SIGKILL
}

// crashKey names one value: kind (data, prop, global), session id, key.
type crashKey struct{ kind, id, key string }

// crashState is what the parent learnt from the child's output.
type crashState struct {
	acked   map[crashKey]string // last acknowledged value
	pending map[crashKey]string // a write started after it, never acknowledged
}

// crashRound runs one child until it has acknowledged crashAcks writes, kills
// it with SIGKILL and folds its output into st.
func crashRound(t *testing.T, st *crashState, env []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acks, killed := 0, false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 1 {
			continue
		}
		if f[0] == "ERR" {
			t.Errorf("child: %s", sc.Text())
			continue
		}
		if len(f) != 5 || (f[0] != "BEGIN" && f[0] != "ACK") {
			t.Errorf("child printed %q", sc.Text())
			continue
		}
		for _, key := range strings.Split(f[3], ",") {
			k := crashKey{f[1], f[2], key}
			if f[0] == "BEGIN" {
				st.pending[k] = f[4]
			} else {
				st.acked[k] = f[4]
				delete(st.pending, k)
			}
		}
		if f[0] == "ACK" {
			acks++
		}
		if acks >= crashAcks && !killed {
			// SIGKILL: no deferred function, no flush, no unlock.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the child exited before %d acknowledged writes (%d): %v", crashAcks, acks, err)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 {
		t.Fatalf("child exit: %v, want death by SIGKILL", err)
	}
}

// verifyCrash checks every value the child wrote against what s holds.
func verifyCrash(t *testing.T, s session.Store, st *crashState) {
	t.Helper()
	ctx := context.Background()
	keys := map[crashKey]bool{}
	for k := range st.acked {
		keys[k] = true
	}
	for k := range st.pending {
		keys[k] = true
	}
	inFlight := 0
	// A Save of several keys lands whole or not at all: count, per write in
	// flight (session and value), how many of its keys landed.
	type write struct{ id, value string }
	landed, width := map[write]int{}, map[write]int{}
	for k, v := range st.pending {
		if k.kind == "data" {
			width[write{k.id, v}]++
		}
	}
	for k := range keys {
		var got []byte
		var err error
		switch k.kind {
		case "data":
			got, err = s.Get(ctx, k.id, k.key)
		case "prop":
			got, err = s.GetProp(ctx, k.id, k.key)
		case "global":
			got, err = s.GetGlobal(ctx, k.id)
		}
		acked, wasAcked := st.acked[k]
		pending, wasPending := st.pending[k]
		switch {
		case err != nil && errors.Is(err, session.ErrNotFound) && !wasAcked:
			// Never acknowledged: absence is fine.
		case err != nil:
			t.Errorf("%v: %v (acknowledged %q)", k, err, acked)
		case wasAcked && string(got) == acked:
		case wasPending && string(got) == pending:
			inFlight++ // the write in flight made it
			st.acked[k] = pending
			if k.kind == "data" {
				landed[write{k.id, pending}]++
			}
		default:
			t.Errorf("%v = %q, want acknowledged %q (or in-flight %q)", k, got, acked, pending)
		}
	}
	for w, n := range landed {
		if n != width[w] {
			t.Errorf("torn write: %d of the %d keys of the Save of %q in %s landed", n, width[w], w.value, w.id)
		}
	}
	// The writes in flight are settled now: what is stored is what the next
	// round starts from.
	clear(st.pending)
	t.Logf("%d values checked, %d in-flight writes landed", len(keys), inFlight)
}
