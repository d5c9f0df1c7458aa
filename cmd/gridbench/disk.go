package main

import (
	"io/fs"
	"path/filepath"
	"syscall"
)

// diskUsage returns the bytes allocated on disk under path.
func diskUsage(path string) int64 {
	var n int64
	filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			n += allocated(info)
		}
		return nil
	})
	return n
}

// fileCount returns the number of regular files under dir.
func fileCount(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// allocated returns the bytes a file takes on disk (its blocks), its size
// when the system does not say.
func allocated(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return info.Size()
}
