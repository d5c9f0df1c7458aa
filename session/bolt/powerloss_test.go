//go:build linux

package bolt_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/bolt"
)

// Power loss, observed with strace. bbolt has no file-system seam, so the
// child process that writes runs under strace, which records every
// pwrite64, ftruncate, fsync and fdatasync on the database file with the
// bytes written (Linux only, as strace). The parent then rebuilds what a power loss at the child's
// exit would leave on disk: the file as it was before the child, plus every
// write and resize that completed before an fsync or fdatasync of the file
// completed; whatever came after the last one is lost. The store opened on
// that image must hold every session the child had acknowledged.

const (
	powerLossPathEnv   = "SESSIONGRID_BOLT_POWERLOSS_PATH"
	powerLossNoSyncEnv = "SESSIONGRID_BOLT_POWERLOSS_NOSYNC"
	powerLossSessions  = 40
)

// TestPowerLossChild writes the sessions and exits without closing; it
// does nothing in a normal run.
func TestPowerLossChild(t *testing.T) {
	path := os.Getenv(powerLossPathEnv)
	if path == "" {
		return
	}
	cfg := bolt.DefaultConfig()
	cfg.Path = path
	cfg.SweepInterval = -1
	cfg.NoSync = os.Getenv(powerLossNoSyncEnv) == "1"
	s, err := bolt.New(cfg)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	ctx := context.Background()
	for i := range powerLossSessions {
		id := fmt.Sprint("user-", i)
		if _, err := s.Save(ctx, id, session.Field{Key: "stage", Value: []byte(strings.Repeat("v", 100+i*50))}); err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println("ACK", id) // acknowledged: it must survive a power loss
	}
	os.Exit(0) // no Close: the process ends as the power goes
}

// straceProbe reports why strace cannot trace a child here ("" if it can).
// Like the other tools the tests drive (scripts/test.sh installs it), a
// missing strace fails the test unless SESSIONGRID_ALLOW_MISSING_TOOLS=1.
func straceProbe() string {
	p, err := exec.LookPath("strace")
	if err != nil {
		return "strace is not installed"
	}
	if out, err := exec.Command(p, "-f", "-o", os.DevNull, "true").CombinedOutput(); err != nil {
		return fmt.Sprintf("strace cannot trace here: %v: %s", err, out)
	}
	return ""
}

// powerLossImage runs the child under strace on a database prepared by
// this process, and returns the path of the image a power loss would leave
// and the sessions the child acknowledged.
func powerLossImage(t *testing.T, noSync bool) (string, []string) {
	t.Helper()
	if why := straceProbe(); why != "" {
		if os.Getenv("SESSIONGRID_ALLOW_MISSING_TOOLS") == "1" {
			t.Skip(why)
		}
		t.Fatalf("%s (apt-get install strace), or set SESSIONGRID_ALLOW_MISSING_TOOLS=1 to skip", why)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "sessions.db")
	// The database exists before the child (made durable by a clean close
	// with fsync): the child's writes are what the power loss judges.
	cfg := bolt.DefaultConfig()
	cfg.Path, cfg.SweepInterval = path, -1
	s, err := bolt.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	base, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "strace.log")
	cmd := exec.Command("strace", "-f", "-y", "-xx", "-s", "1048576", "-o", log,
		"-e", "trace=pwrite64,write,ftruncate,fsync,fdatasync,fallocate",
		os.Args[0], "-test.run=^TestPowerLossChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), powerLossPathEnv+"="+path)
	if noSync {
		cmd.Env = append(cmd.Env, powerLossNoSyncEnv+"=1")
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var acked []string
	for _, line := range strings.Split(string(out), "\n") {
		if id, ok := strings.CutPrefix(line, "ACK "); ok {
			acked = append(acked, id)
		}
	}
	if len(acked) != powerLossSessions {
		t.Fatalf("the child acknowledged %d sessions, want %d:\n%s", len(acked), powerLossSessions, out)
	}
	img := replayDurable(t, log, path, base)
	imgPath := filepath.Join(dir, "after-power-loss.db")
	if err := os.WriteFile(imgPath, img, 0o600); err != nil {
		t.Fatal(err)
	}
	return imgPath, acked
}

var (
	// PID  call(FD</path>, ...   (complete, or "<unfinished ...>")
	straceCall = regexp.MustCompile(`^(\d+)\s+(pwrite64|write|ftruncate|fsync|fdatasync|fallocate)\((\d+)<([^>]*)>(.*)$`)
	// PID  <... call resumed>...) = RET
	straceResumed = regexp.MustCompile(`^(\d+)\s+<\.\.\. (\w+) resumed>.*\) = (-?\d+)`)
	straceRet     = regexp.MustCompile(`\) = (-?\d+)`)
	hexString     = regexp.MustCompile(`^, "((?:\\x[0-9a-f]{2})*)", (\d+), (\d+)`)
)

// fileOp is one change to the database file: a write at off, or a resize
// to size (data nil).
type fileOp struct {
	data []byte
	off  int64
	size int64
}

// replayDurable rebuilds the file at path as a power loss would leave it:
// base, then the operations that completed before a sync of the file that
// completed. A write(2) to the file (never done by bbolt) fails the test:
// its offset is not in the trace.
func replayDurable(t *testing.T, log, path string, base []byte) []byte {
	t.Helper()
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img := append([]byte(nil), base...)
	var done []fileOp              // completed, not yet durable
	pending := map[string]fileOp{} // pid → an unfinished write or resize
	syncing := map[string]int{}    // pid → len(done) when its sync started
	apply := func(ops []fileOp) {
		for _, op := range ops {
			if op.data == nil {
				if op.size < int64(len(img)) {
					img = img[:op.size]
				} else {
					img = append(img, make([]byte, op.size-int64(len(img)))...)
				}
				continue
			}
			if end := op.off + int64(len(op.data)); end > int64(len(img)) {
				img = append(img, make([]byte, end-int64(len(img)))...)
			}
			copy(img[op.off:], op.data)
		}
	}
	syncs := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := straceResumed.FindStringSubmatch(line); m != nil {
			pid, call, ret := m[1], m[2], m[3]
			switch call {
			case "pwrite64", "ftruncate", "fallocate":
				if op, ok := pending[pid]; ok {
					delete(pending, pid)
					if ret != "-1" {
						done = append(done, op)
					}
				}
			case "fsync", "fdatasync":
				if n, ok := syncing[pid]; ok {
					delete(syncing, pid)
					if ret == "0" {
						apply(done[:n])
						done = done[n:]
						for p := range syncing {
							syncing[p] -= n
						}
						syncs++
					}
				}
			}
			continue
		}
		m := straceCall.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if fdPath, err := hex.DecodeString(strings.ReplaceAll(m[4], `\x`, "")); err != nil || string(fdPath) != path {
			continue // -xx escapes the path too
		}
		pid, call, rest := m[1], m[2], m[5]
		unfinished := strings.HasSuffix(rest, "<unfinished ...>")
		ret := ""
		if r := straceRet.FindStringSubmatch(rest); r != nil {
			ret = r[1]
		}
		var op fileOp
		switch call {
		case "write":
			t.Fatalf("a write(2) to the database, which the replay cannot place: %s", line)
		case "pwrite64":
			h := hexString.FindStringSubmatch(rest)
			if h == nil {
				t.Fatalf("cannot parse (truncated string?): %.200s", line)
			}
			data, err := hex.DecodeString(strings.ReplaceAll(h[1], `\x`, ""))
			if err != nil {
				t.Fatal(err)
			}
			off, _ := strconv.ParseInt(h[3], 10, 64)
			op = fileOp{data: data, off: off}
		case "ftruncate":
			size, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(strings.TrimPrefix(rest, ","), ")", 2)[0]), 10, 64)
			if err != nil {
				t.Fatalf("cannot parse: %s", line)
			}
			op = fileOp{size: size}
		case "fallocate":
			t.Fatalf("fallocate on the database is not modelled: %s", line)
		case "fsync", "fdatasync":
			if unfinished {
				syncing[pid] = len(done)
			} else if ret == "0" {
				apply(done)
				done = nil
				syncs++
			}
			continue
		}
		if unfinished {
			pending[pid] = op
		} else if ret != "-1" {
			done = append(done, op)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("power loss: %d syncs of the file made writes durable; %d completed writes after the last one are lost", syncs, len(done))
	return img
}

// TestPowerLossKeepsAcknowledgedWrites: every session acknowledged before
// a power loss is in the file after it. The SIGKILL test cannot see a
// missing fsync (the page cache survives a process); this one fails if
// the store opens bbolt with NoSync.
func TestPowerLossKeepsAcknowledgedWrites(t *testing.T) {
	img, acked := powerLossImage(t, false)
	cfg := bolt.DefaultConfig()
	cfg.Path, cfg.SweepInterval = img, -1
	s, err := bolt.New(cfg)
	if err != nil {
		t.Fatalf("open after the power loss: %v", err)
	}
	ctx := context.Background()
	defer s.Close(ctx)
	if _, err := s.Check(ctx); err != nil {
		t.Fatalf("Check after the power loss: %v", err)
	}
	for i, id := range acked {
		v, err := s.Get(ctx, id, "stage")
		if err != nil || len(v) != 100+i*50 {
			t.Fatalf("acknowledged session %s after the power loss: %d bytes, %v", id, len(v), err)
		}
	}
}

// The replay must be able to lose data: with NoSync, commits are not
// fsynced (bbolt still fsyncs when it grows the file, which makes the
// commits before it durable), so the last sessions the child acknowledged
// are not in the image (or the file is unreadable).
func TestPowerLossWithoutFsyncLosesWrites(t *testing.T) {
	img, acked := powerLossImage(t, true)
	cfg := bolt.DefaultConfig()
	cfg.Path, cfg.SweepInterval = img, -1
	s, err := bolt.New(cfg)
	if err != nil {
		t.Logf("open after the power loss without fsync: %v", err)
		return
	}
	ctx := context.Background()
	defer s.Close(ctx)
	lost := 0
	for _, id := range acked {
		if _, err := s.Get(ctx, id, "stage"); err != nil {
			lost++
		}
	}
	if _, err := s.Get(ctx, acked[len(acked)-1], "stage"); err == nil || lost == 0 {
		t.Fatalf("%d sessions lost, the last one too: %v; without fsync the last commits cannot survive: the replay keeps what was never synced", lost, err == nil)
	}
	t.Logf("without fsync a power loss lost %d of %d acknowledged sessions", lost, len(acked))
}
