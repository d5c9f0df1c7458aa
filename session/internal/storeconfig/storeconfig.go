// Package storeconfig fills and checks the Config fields that the session
// backends share (DefaultIdle, MaxValueSize, SweepInterval, Now, Logger),
// so that each backend's withDefaults and Validate state only its own.
// The public Config structs stay as they are: Shared points into them.
package storeconfig

import (
	"fmt"
	"log/slog"
	"time"
)

// Shared points at the shared fields of one backend's Config. A nil
// pointer is a field that backend does not have.
type Shared struct {
	DefaultIdle   *time.Duration
	MaxValueSize  *int
	SweepInterval *time.Duration
	Now           *func() time.Time
	Logger        **slog.Logger
}

// Fill sets each zero field to its default: the value d points at for
// DefaultIdle, MaxValueSize and SweepInterval (d is the backend's
// DefaultConfig), time.Now for Now and slog.Default() for Logger.
func (s Shared) Fill(d Shared) {
	fill(s.DefaultIdle, d.DefaultIdle)
	fill(s.MaxValueSize, d.MaxValueSize)
	fill(s.SweepInterval, d.SweepInterval)
	if s.Now != nil && *s.Now == nil {
		*s.Now = time.Now
	}
	if s.Logger != nil && *s.Logger == nil {
		*s.Logger = slog.Default()
	}
}

func fill[T comparable](v, d *T) {
	var zero T
	if v != nil && *v == zero {
		*v = *d
	}
}

// Validate reports a shared field that New would refuse, the message
// prefixed with the backend's name: a negative MaxValueSize.
func (s Shared) Validate(backend string) error {
	if s.MaxValueSize != nil && *s.MaxValueSize < 0 {
		return fmt.Errorf("%s: MaxValueSize must not be negative, got %d", backend, *s.MaxValueSize)
	}
	return nil
}
