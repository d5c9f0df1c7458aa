package adapters_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/redis/go-redis/v9"
)

// The cross-language data set. The same literals are in
// pywce/test_gridnode_session.py (INTEROP_DATA, INTEROP_PROPS) and in
// jawce's GridSessionManagerTest (interopData, interopProps); each language
// writes them under prefix+lang and reads the others'.
var (
	interopData = map[string]any{
		"stage":   "MENU-1",
		"count":   42,
		"ratio":   1.5,
		"ok":      true,
		"none":    nil,
		"history": []any{"wamid.1", "wamid.2"},
		"auth":    map[string]any{"token": "t-1", "exp": 1700000000, "roles": []any{"user"}},
		"text":    "h\u00e9llo \u2713 <&> \"q\" \\ \n\t\u00e0\U0001F600",
	}
	interopProps = map[string]any{"name": "Ada", "age": 36}
	// interopGlobalN is the "n" of each language's global {"lang": l, "n": n}.
	interopGlobalN = map[string]int{"go": 1, "py": 2, "java": 3}
	// sameBytes are the keys whose encoding is identical in Go, Python and
	// Java (no map key order, no escaping choices involved).
	sameBytes = []string{"stage", "count", "ratio", "ok", "none", "history"}
)

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%v): %v", v, err)
	}
	return b
}

// normalized is v as any JSON reader in Go sees it (float64 numbers).
func normalized(t *testing.T, v any) any {
	t.Helper()
	var out any
	if err := json.Unmarshal(mustJSON(t, v), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeGoInterop stores the data set the way the Go session manager does
// (encoding/json values through gridnode's commands).
func writeGoInterop(t *testing.T, ctx context.Context, rdb *redis.Client, prefix string) {
	t.Helper()
	id := prefix + "go"
	args := []any{"HSET", id}
	for k, v := range interopData {
		args = append(args, k, mustJSON(t, v))
	}
	if err := rdb.Do(ctx, args...).Err(); err != nil {
		t.Fatalf("HSET: %v", err)
	}
	for k, v := range interopProps {
		if err := rdb.Do(ctx, "SESSION.PROPSET", id, k, mustJSON(t, v)).Err(); err != nil {
			t.Fatalf("SESSION.PROPSET: %v", err)
		}
	}
	global := map[string]any{"lang": "go", "n": interopGlobalN["go"]}
	if err := rdb.Do(ctx, "GLOBAL.SET", prefix+"g:go", mustJSON(t, global)).Err(); err != nil {
		t.Fatalf("GLOBAL.SET: %v", err)
	}
}

// checkInterop verifies what the adapter of lang wrote: the same data, props
// and global, decoded by Go, and byte-identical encodings where the three
// languages must agree.
func checkInterop(t *testing.T, ctx context.Context, rdb *redis.Client, prefix, lang string) {
	t.Helper()
	id := prefix + lang
	data := replyMap(t, rdb.Do(ctx, "HGETALL", id))
	if got, want := decodeAll(t, data), normalized(t, interopData); !reflect.DeepEqual(got, want) {
		t.Errorf("%s data decoded by Go:\n got %v\nwant %v", lang, got, want)
	}
	for _, k := range sameBytes {
		if got, want := data[k], string(mustJSON(t, interopData[k])); got != want {
			t.Errorf("%s wrote %s as %q, Go writes %q", lang, k, got, want)
		}
	}
	props := replyMap(t, rdb.Do(ctx, "SESSION.PROPS", id))
	if got, want := decodeAll(t, props), normalized(t, interopProps); !reflect.DeepEqual(got, want) {
		t.Errorf("%s props decoded by Go:\n got %v\nwant %v", lang, got, want)
	}
	raw, err := rdb.Do(ctx, "GLOBAL.GET", prefix+"g:"+lang).Text()
	if err != nil {
		t.Fatalf("GLOBAL.GET %s: %v", lang, err)
	}
	var global any
	if err := json.Unmarshal([]byte(raw), &global); err != nil {
		t.Fatalf("%s global %q: %v", lang, raw, err)
	}
	want := normalized(t, map[string]any{"lang": lang, "n": interopGlobalN[lang]})
	if !reflect.DeepEqual(global, want) {
		t.Errorf("%s global: got %v, want %v", lang, global, want)
	}
}

// replyMap reads a map reply: a flat array in RESP2, a map in RESP3.
func replyMap(t *testing.T, cmd *redis.Cmd) map[string]string {
	t.Helper()
	v, err := cmd.Result()
	if err != nil {
		t.Fatalf("%v: %v", cmd.Args(), err)
	}
	out := map[string]string{}
	switch r := v.(type) {
	case []any:
		if len(r)%2 != 0 {
			t.Fatalf("%v: odd-length reply %v", cmd.Args(), r)
		}
		for i := 0; i < len(r); i += 2 {
			out[fmt.Sprint(r[i])] = fmt.Sprint(r[i+1])
		}
	case map[any]any:
		for k, v := range r {
			out[fmt.Sprint(k)] = fmt.Sprint(v)
		}
	default:
		t.Fatalf("%v: unexpected reply %T %v", cmd.Args(), v, v)
	}
	return out
}

func decodeAll(t *testing.T, m map[string]string) map[string]any {
	t.Helper()
	out := make(map[string]any, len(m))
	for k, raw := range m {
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			t.Errorf("value of %q is not JSON: %q: %v", k, raw, err)
			continue
		}
		out[k] = v
	}
	return out
}
