package server

import (
	"bufio"
	"strings"
	"testing"
)

func TestSplitQuotedArgs(t *testing.T) {
	cases := []struct {
		line string
		want []string // nil: an error
	}{
		{`ECHO "a b"`, []string{"ECHO", "a b"}},
		{`SET k 'it\'s'`, []string{"SET", "k", "it's"}},
		{`SET k "line\nnext\t\x41\\\"q"`, []string{"SET", "k", "line\nnext\tA\\\"q"}},
		{`SET k ""`, []string{"SET", "k", ""}},
		{`SET a"b c" x`, []string{"SET", "ab c", "x"}},
		{`SET k "\xZZ"`, []string{"SET", "k", "xZZ"}},
		{`  ECHO   'a'  `, []string{"ECHO", "a"}},
		{`ECHO "unterminated`, nil},
		{`ECHO 'unterminated`, nil},
		{`ECHO "a"b`, nil},
		{`ECHO 'a'b`, nil},
		{`ECHO "a\`, nil},
	}
	for _, tc := range cases {
		got, err := splitQuotedArgs([]byte(tc.line), nil)
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: %q, want an error", tc.line, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.line, err)
			continue
		}
		var s []string
		for _, a := range got {
			s = append(s, string(a))
		}
		if strings.Join(s, "|") != strings.Join(tc.want, "|") || len(s) != len(tc.want) {
			t.Errorf("%s: %q, want %q", tc.line, s, tc.want)
		}
	}
}

func TestInlineQuotes(t *testing.T) {
	n := startNode(t, Config{})
	c := n.dial(t)
	r := bufio.NewReader(c)
	c.Write([]byte("ECHO \"a b\"\r\nSET k 'x y'\r\nGET k\r\n"))
	want := []string{"$3\r\n", "a b\r\n", "+OK\r\n", "$3\r\n", "x y\r\n"}
	for _, w := range want {
		if line, err := r.ReadString('\n'); err != nil || line != w {
			t.Fatalf("got %q, %v; want %q", line, err, w)
		}
	}
	c.Write([]byte("ECHO \"a\r\n"))
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "-ERR Protocol error: unbalanced quotes") {
		t.Fatalf("unbalanced quotes: %q, %v", line, err)
	}
}

func FuzzSplitQuotedArgs(f *testing.F) {
	for _, s := range []string{`ECHO "a b"`, `'it\'s'`, `"\x41\n"`, `a"b c"`, `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args, err := splitQuotedArgs([]byte(line), nil)
		ascii := strings.IndexFunc(line, func(r rune) bool { return r >= 0x80 }) < 0
		if err == nil && ascii && !strings.ContainsAny(line, `"'`) && len(args) != len(strings.Fields(line)) {
			t.Fatalf("%q: %q", line, args)
		}
	})
}
