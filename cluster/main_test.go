package cluster

import (
	"testing"

	"go.uber.org/goleak"
)

// memberlist's Shutdown does not wait for a probe in flight; it ends by
// itself within one probe interval (it only waits on a timer and channels).
// Every goroutine of ours is checked.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/hashicorp/memberlist.(*Memberlist).probeNode"))
}
