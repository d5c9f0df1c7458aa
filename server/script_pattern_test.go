package server

import (
	"bufio"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// luaSer is the serializer of testdata/lua51_patterns.lua.
const luaSer = `
local function ser(...)
  local n = select("#", ...)
  local out = {}
  for i = 1, n do
    local v = select(i, ...)
    if type(v) == "string" then
      out[#out + 1] = string.format("%q", v)
    elseif type(v) == "number" then
      out[#out + 1] = string.format("%.14g", v)
    elseif type(v) == "boolean" or type(v) == "nil" then
      out[#out + 1] = tostring(v)
    else
      out[#out + 1] = type(v)
    end
  end
  return table.concat(out, " ")
end
`

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
	n := startNode(t, Config{})
	c := n.client(t, 2)
	sc := bufio.NewScanner(f)
	cases := 0
	for sc.Scan() {
		expr, want, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("bad golden line %q", sc.Text())
		}
		cases++
		got, err := c.Eval(context.Background(), luaSer+"return ser("+expr+")", nil).Text()
		if err != nil {
			t.Errorf("%s: %v", expr, err)
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
