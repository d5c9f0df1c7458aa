package server

import (
	"slices"
	"strings"
	"testing"
)

// The flags of the command table say what the switches over command ids
// said before; these are their rules.
func TestCommandFlags(t *testing.T) {
	for _, cmd := range newCommandTable() {
		data := cmd.flags&(flagWrite|flagReadonly) != 0
		check := func(ok bool, what string) {
			t.Helper()
			if !ok {
				t.Errorf("%s: %s", cmd.name, what)
			}
		}
		check(cmd.flags&flagNoScript == 0 || data, "flagNoScript on a command that is no data command (it is not callable anyway)")
		check(cmd.flags&flagGlobal == 0 || (data && cmd.first == 0), "flagGlobal on a command that is no keyless data command")
		check(cmd.flags&flagNoopReply == 0 || cmd.flags&flagWrite != 0, "flagNoopReply on a command that does not write")
		check(cmd.flags&flagNumKeys == 0 || cmd.first == 0, "flagNumKeys and key positions")
		// README, "What a script may call": the data commands but GRID.*,
		// and PING, ECHO, TIME, PUBLISH, PUBSUB.
		callable := (data && !strings.HasPrefix(cmd.name, "grid.")) ||
			slices.Contains([]string{"ping", "echo", "time", "publish", "pubsub"}, cmd.name)
		if got := cmd.flags&flagScript != 0; got != callable {
			t.Errorf("%s: callable from scripts = %v, want %v", cmd.name, got, callable)
		}
	}
}
