package server

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readmeCommands returns the commands the README's command tables list:
// the first word of each code span in the first column of the tables
// whose first heading is "command".
func readmeCommands(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	span := regexp.MustCompile("`([^`]*)`")
	name := regexp.MustCompile(`^[A-Z][A-Z0-9_.]*$`)
	names := map[string]bool{}
	inTable := false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		switch {
		case !strings.HasPrefix(line, "|"):
			inTable = false
			continue
		case strings.HasPrefix(line, "| command |"):
			inTable = true
			continue
		case !inTable:
			continue
		}
		// The first cell ends at the first | not escaped as \|.
		cell := strings.TrimPrefix(line, "|")
		for i := 0; i < len(cell); i++ {
			if cell[i] == '|' && (i == 0 || cell[i-1] != '\\') {
				cell = cell[:i]
				break
			}
		}
		for _, m := range span.FindAllStringSubmatch(cell, -1) {
			word, _, _ := strings.Cut(m[1], " ")
			if name.MatchString(word) {
				names[word] = true
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("README.md has no command table (a table whose first heading is \"command\")")
	}
	return names
}

// The README's command tables list every command of the table, and only
// those.
func TestREADMEListsEveryCommand(t *testing.T) {
	listed := readmeCommands(t)
	table := newCommandTable()
	known := map[string]bool{}
	for _, cmd := range table {
		name := strings.ToUpper(cmd.name)
		known[name] = true
		if !listed[name] {
			t.Errorf("%s is in the command table but not in README.md's command tables", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(listed)) {
		if !known[name] {
			t.Errorf("README.md's command tables list %s, which is not in the command table", name)
		}
	}
}
