package expiry_test

import (
	"math"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/expiry"
)

func TestAt(t *testing.T) {
	cases := []struct {
		name                    string
		touched, idle, deadline int64
		want                    int64
	}{
		{"Never", 100, 0, 0, 0},
		{"Idle", 100, 50, 0, 150},
		{"Deadline", 100, 0, 120, 120},
		{"IdleFirst", 100, 10, 120, 110},
		{"DeadlineFirst", 100, 50, 120, 120},
		{"IdleOverflows", 100, math.MaxInt64, 0, math.MaxInt64},
		{"IdleOverflowsDeadlineSet", 100, math.MaxInt64, 120, 120},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := expiry.At(tc.touched, tc.idle, tc.deadline); got != tc.want {
				t.Fatalf("At(%d, %d, %d) = %d, want %d", tc.touched, tc.idle, tc.deadline, got, tc.want)
			}
		})
	}
}

func TestLive(t *testing.T) {
	if !expiry.Live(0, math.MaxInt64) {
		t.Error("a session that never expires is not live")
	}
	if !expiry.Live(100, 99) || expiry.Live(100, 100) {
		t.Error("a session is live until, not at, its expiry")
	}
}

func TestOverride(t *testing.T) {
	const now = 1000
	cases := []struct {
		name               string
		x                  session.Expiry
		idle               int64
		wantIdle, wantDead int64
	}{
		{"KeepIdle", session.Expiry{}, 50, 50, 0},
		{"SetIdle", session.Expiry{Idle: 7}, 50, 7, 0},
		{"DisableIdle", session.Expiry{Idle: session.NoExpiry}, 50, 0, 0},
		{"TTL", session.Expiry{TTL: 30}, 50, 50, now + 30},
		{"TTLOverflows", session.Expiry{TTL: time.Duration(math.MaxInt64)}, 0, 0, math.MaxInt64},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			idle, dead := expiry.Override(tc.x, tc.idle, now)
			if idle != tc.wantIdle || dead != tc.wantDead {
				t.Fatalf("Override = %d, %d; want %d, %d", idle, dead, tc.wantIdle, tc.wantDead)
			}
		})
	}
}
