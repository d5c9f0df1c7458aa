package file

import "os"

// fsys is the seam of the store's writes: the operations whose durability
// the store orders with fsync (create, write, rename, remove, mkdir, and
// the fsyncs themselves). Reads go to the os package directly: they see
// what a crash of the process would leave, the page cache. The store uses
// the os; tests substitute a file system that records what was fsynced and
// can simulate a power loss (powerloss_test.go).
//
// Concurrency: called from any goroutine, for different paths at once (the
// store's locks order the calls on one path).
type fsys interface {
	OpenFile(name string, flag int, perm os.FileMode) (syncFile, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	Mkdir(name string, perm os.FileMode) error
	// SyncDir makes the entries of directory dir durable.
	SyncDir(dir string) error
}

// syncFile is a file open for writing.
type syncFile interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
}

// osFS is fsys on the os package.
type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (syncFile, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}
func (osFS) Rename(oldpath, newpath string) error      { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                  { return os.Remove(name) }
func (osFS) Mkdir(name string, perm os.FileMode) error { return os.Mkdir(name, perm) }
func (osFS) SyncDir(dir string) error                  { return fsyncDir(dir) }
