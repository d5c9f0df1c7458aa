package storetest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
)

// lockAtEnv hands the location to open to the child of RunSecondProcess.
const lockAtEnv = "SESSIONGRID_STORETEST_LOCK_AT"

// LockChild is the body of the TestLockChild function that a backend using
// RunSecondProcess must have. In a normal run it returns at once. In the
// child RunSecondProcess starts, it opens the store at the location the
// parent gave with open and prints REFUSED and the error when the error is
// locked, ERROR and the error for any other error, OPENED when it opened.
func LockChild(t *testing.T, open func(at string) (session.Store, error), locked error) {
	at := os.Getenv(lockAtEnv)
	if at == "" {
		return
	}
	s, err := open(at)
	switch {
	case errors.Is(err, locked):
		fmt.Printf("REFUSED %v\n", err)
	case err != nil:
		fmt.Printf("ERROR %v\n", err)
	default:
		fmt.Println("OPENED")
		_ = s.Close(t.Context())
	}
}

// RunSecondProcess checks that a second process cannot open the storage at
// location at while s, open on it, holds it, and can once s is closed. The
// refusal's error must contain mention ("" for any error).
func RunSecondProcess(t *testing.T, at string, s session.Store, mention string) {
	child := func() string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), lockAtEnv+"="+at)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		return string(out)
	}
	if out := child(); !strings.HasPrefix(out, "REFUSED ") || !strings.Contains(out, mention) {
		t.Fatalf("child opening held storage printed %q, want REFUSED naming %q", out, mention)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if out := child(); !strings.HasPrefix(out, "OPENED") {
		t.Fatalf("child opening released storage printed %q", out)
	}
}
