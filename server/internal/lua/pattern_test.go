package lua

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// luaSer returns the serializer of testdata/lua51_patterns.lua, which
// printed the golden values.
func luaSer(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/lua51_patterns.lua")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	i := strings.Index(src, "local function ser(")
	n := strings.Index(src[max(i, 0):], "\nend\n")
	if i < 0 || n < 0 {
		t.Fatal("no function ser in testdata/lua51_patterns.lua")
	}
	return src[i : i+n+len("\nend\n")]
}

// errorPosition is the "chunk:line: " prefix Lua puts on errors, which
// differs between a script and a loadstring chunk.
var errorPosition = regexp.MustCompile(`"(\[string \\".*?\\"\]|[a-z_]+):\d+: `)

// The pattern functions, table.concat and .. return what Lua 5.1.5 returns
// (testdata/lua51_patterns.golden, made by lua5.1 from
// testdata/lua51_patterns.lua).
func TestLuaPatternFunctionsMatchLua51(t *testing.T) {
	f, err := os.Open("testdata/lua51_patterns.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vm := NewVM()
	ser := luaSer(t)
	sc := bufio.NewScanner(f)
	cases := 0
	for sc.Scan() {
		expr, want, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("bad golden line %q", sc.Text())
		}
		cases++
		reply, err := run(t, vm, ser+"return ser("+expr+")", Run{})
		got, ok := "", len(reply) == 1
		if ok {
			got, ok = reply[0].(string)
		}
		if err != nil || !ok {
			t.Errorf("%s: %v, %v", expr, reply, err)
			continue
		}
		got = errorPosition.ReplaceAllString(got, `"`)
		want = errorPosition.ReplaceAllString(want, `"`)
		if got != want {
			t.Errorf("%s\n got: %s\nwant: %s", expr, got, want)
		}
	}
	if cases < 90 {
		t.Fatalf("only %d cases", cases)
	}
}
