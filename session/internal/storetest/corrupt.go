package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// Damage is one way to damage the stored bytes of a record.
type Damage struct {
	Name  string
	Apply func(b []byte) []byte // may change b in place
}

// Damages are the damages every durable store must detect: a read of the
// record fails with the store's ErrCorrupt and Check reports it.
var Damages = []Damage{
	{"FlippedValueByte", func(b []byte) []byte { b[len(b)-6] ^= 0x01; return b }},
	{"FlippedHeaderByte", func(b []byte) []byte { b[10] ^= 0x80; return b }},
	{"Truncated", func(b []byte) []byte { return b[:len(b)/2] }},
	{"Empty", func([]byte) []byte { return []byte{} }},
	{"Garbage", func(b []byte) []byte { return bytes.Repeat([]byte{0xAB}, len(b)) }},
}

// MustFindCorrupt checks that s.Check finds good sound records and reports
// the damaged ones with an error matching errCorrupt, and that corrupt (the
// store's counter of corrupt records met) is above zero.
func MustFindCorrupt(t testing.TB, s Store, good int, errCorrupt error, corrupt func() uint64) {
	t.Helper()
	n, err := s.Check(context.Background())
	if !errors.Is(err, errCorrupt) || n != good {
		t.Errorf("Check = %d, %v; want %d good records and %v", n, err, good, errCorrupt)
	}
	if corrupt() == 0 {
		t.Error("Stats().Corrupt = 0")
	}
}
