package storeconfig_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session/internal/storeconfig"
)

type config struct {
	DefaultIdle   time.Duration
	MaxValueSize  int
	SweepInterval time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
}

func (c *config) shared() storeconfig.Shared {
	return storeconfig.Shared{DefaultIdle: &c.DefaultIdle, MaxValueSize: &c.MaxValueSize, SweepInterval: &c.SweepInterval, Now: &c.Now, Logger: &c.Logger}
}

func TestFillSetsOnlyZeroFields(t *testing.T) {
	d := config{DefaultIdle: time.Minute, MaxValueSize: 10, SweepInterval: time.Second}
	var zero config
	zero.shared().Fill(d.shared())
	if zero.DefaultIdle != time.Minute || zero.MaxValueSize != 10 || zero.SweepInterval != time.Second || zero.Now == nil || zero.Logger != slog.Default() {
		t.Fatalf("Fill of a zero config = %+v", zero)
	}
	logger := slog.New(slog.DiscardHandler)
	set := config{DefaultIdle: -1, MaxValueSize: 3, SweepInterval: -1, Now: func() time.Time { return time.Unix(7, 0) }, Logger: logger}
	set.shared().Fill(d.shared())
	if set.DefaultIdle != -1 || set.MaxValueSize != 3 || set.SweepInterval != -1 || set.Now().Unix() != 7 || set.Logger != logger {
		t.Fatalf("Fill changed set fields: %+v", set)
	}
}

func TestFillSkipsMissingFields(t *testing.T) {
	var idle time.Duration
	minute := time.Minute
	storeconfig.Shared{DefaultIdle: &idle}.Fill(storeconfig.Shared{DefaultIdle: &minute})
	if idle != time.Minute {
		t.Fatalf("DefaultIdle = %v", idle)
	}
}

func TestValidate(t *testing.T) {
	c := config{MaxValueSize: -1}
	err := c.shared().Validate("memory")
	if err == nil || err.Error() != "memory: MaxValueSize must not be negative, got -1" {
		t.Fatalf("Validate(MaxValueSize -1) = %v", err)
	}
	c.MaxValueSize = 0
	if err := c.shared().Validate("memory"); err != nil {
		t.Fatalf("Validate(zero) = %v", err)
	}
	if err := (storeconfig.Shared{}).Validate("cache"); err != nil {
		t.Fatalf("Validate of no fields = %v", err)
	}
}
