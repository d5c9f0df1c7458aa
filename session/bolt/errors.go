package bolt

import (
	"errors"

	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Errors of the bolt store, beside the session sentinels it also returns.
var (
	// ErrLocked reports that another process (or another Store in this
	// one) has the database file open: bbolt holds an exclusive flock on it,
	// and New gives up after Config.Timeout.
	ErrLocked = errors.New("bolt: database file locked by another store")
	// ErrCorrupt reports a record that fails its checksum or does not
	// decode. The operation that met it fails rather than return or
	// overwrite bad data. It is the same error as session/file's
	// ErrCorrupt.
	ErrCorrupt = record.ErrCorrupt
)
