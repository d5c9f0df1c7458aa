//go:build unix

package file

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// dirLock is an exclusive flock on Dir/LOCK, held for the life of a Store.
// flock locks belong to the open file, so a second Store on the same
// directory is refused whether it lives in another process or in this one,
// and the kernel drops the lock when the process dies (even by SIGKILL):
// no stale lock file to clean up after a crash.
type dirLock struct {
	f *os.File
}

func lockDir(path string) (*dirLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("file: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid := strings.TrimSpace(string(b)); pid != "" {
				holder = " (pid " + pid + ")"
			}
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is held by another store%s", ErrLocked, path, holder)
		}
		return nil, fmt.Errorf("file: flock %s: %w", path, err)
	}
	// Record the holder for the error message above; best effort.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) unlock() error {
	// Closing the file releases the flock.
	return l.f.Close()
}
