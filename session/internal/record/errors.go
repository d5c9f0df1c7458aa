package record

import "errors"

var (
	// ErrCorrupt reports a stored record that fails its checksum or does
	// not decode. The stores return it, wrapped with where the record was
	// (and export it as their own ErrCorrupt); the operation that met it
	// fails rather than return or overwrite bad data.
	ErrCorrupt = errors.New("session: corrupt record")
	// ErrMalformed is wrapped by every error of Decode and DecodeHeader:
	// the bytes are not a valid record. The stores wrap such errors in
	// ErrCorrupt.
	ErrMalformed = errors.New("bad record")
)
