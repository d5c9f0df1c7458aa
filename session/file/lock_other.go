//go:build !unix

package file

import (
	"errors"
	"runtime"
)

type dirLock struct{}

func lockDir(string) (*dirLock, error) {
	return nil, errors.New("file: the directory lock needs flock, which " + runtime.GOOS + " lacks")
}

func (*dirLock) unlock() error { return nil }
