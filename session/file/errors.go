package file

import (
	"errors"

	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Errors of the file store, beside the session sentinels it also returns.
var (
	// ErrLocked reports that another Store (in this or another process)
	// holds the directory: New takes an exclusive, non-blocking flock on
	// Dir/LOCK and refuses to share the directory.
	ErrLocked = errors.New("file: directory locked by another store")
	// ErrCorrupt reports a session or global file that fails its checksum
	// or does not decode. The file is left in place for inspection; the
	// operation that met it fails rather than return or overwrite bad data.
	// It is the same error as session/bolt's ErrCorrupt.
	ErrCorrupt = record.ErrCorrupt
)
