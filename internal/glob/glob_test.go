package glob_test

import (
	"strings"
	"testing"

	"github.com/sessiongrid/sessiongrid/internal/glob"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"", "", true},
		{"", "a", false},
		{"h?llo", "hello", true},
		{"h?llo", "hllo", false},
		{"h*llo", "hllo", true},
		{"h*llo", "heeeello", true},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true},
		{"h[b-a]llo", "hallo", true},
		{"h[a-b]llo", "hcllo", false},
		{`h\*llo`, "h*llo", true},
		{`h\*llo`, "hello", false},
		{`[\]]`, "]", true},
		{"user:*", "user:263771", true},
		{"user:*", "user", false},
		{"*:lock", "263771:lock", true},
		{"263771*", "2637712", true},
		{"263771:*", "2637712:x", false},
		{"[", "a", false},
		{"[abc", "b", true},
		{`trailing\`, `trailing\`, true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 200), false},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+"~"+tc.s, func(t *testing.T) {
			if got := glob.Match(tc.pattern, tc.s); got != tc.want {
				t.Fatalf("Match(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
			}
		})
	}
}

func FuzzMatch(f *testing.F) {
	for _, seed := range []string{"*", "h?llo", "h[^a-z]*", `\`, "[", "[^", "[a-", "**?*"} {
		f.Add(seed, "hello")
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		glob.Match(pattern, s) // must not panic or hang
		if !glob.Match("*", s) {
			t.Fatal("* must match everything")
		}
	})
}
