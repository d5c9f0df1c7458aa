package session_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Listen starts a goroutine per listener: every test must stop what it
// starts.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
