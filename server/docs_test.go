package server

import "testing"

// TestEveryCommandHasDocs keeps COMMAND DOCS in step with the command
// table: every command has a row, and no row names a command that does not
// exist.
func TestEveryCommandHasDocs(t *testing.T) {
	table := newCommandTable()
	names := map[string]bool{}
	for _, c := range table {
		names[c.name] = true
		d, ok := commandDocs[c.name]
		if !ok || d.summary == "" {
			t.Errorf("command %q has no COMMAND DOCS row (server/docs.go)", c.name)
		}
	}
	for name := range commandDocs {
		if !names[name] {
			t.Errorf("COMMAND DOCS has a row for %q, which is not in the command table", name)
		}
	}
}
