package session

import "fmt"

// Limits on identifiers. Session ids and keys are opaque byte strings: any
// non-empty string up to these lengths, unicode, ':', '*' and '/' included.
const (
	MaxIDLen  = 64 << 10
	MaxKeyLen = 64 << 10
	// DefaultMaxValueSize bounds one encoded value unless configured otherwise.
	DefaultMaxValueSize = 8 << 20
)

// ValidateID checks a session id.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrInvalidID)
	case len(id) > MaxIDLen:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidID, len(id), MaxIDLen)
	}
	return nil
}

// ValidateKey checks a data, prop or global key.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	return nil
}

// ValidateValue checks an encoded value against limit (DefaultMaxValueSize
// when limit <= 0).
func ValidateValue(value []byte, limit int) error {
	if limit <= 0 {
		limit = DefaultMaxValueSize
	}
	if len(value) > limit {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(value), limit)
	}
	return nil
}
