package sessiontest

import (
	"fmt"
	"math"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// dataRules: Save, SaveAll, Load, LoadInto, Get, FetchAll, Exists, EvictAll
// on values of every shape a bot keeps.
func dataRules() []rule {
	return []rule{
		{"TypedRoundTrip", dataTypedRoundTrip},
		{"UntypedLoad", dataUntypedLoad},
		{"LoadInto", dataLoadInto},
		{"Nil", dataNil},
		{"Overwrite", dataOverwrite},
		{"SaveAllAndFetchAll", dataSaveAllFetchAll},
		{"Exists", dataExists},
		{"EvictAll", dataEvictAll},
	}
}

const dataID = "263771234567"

// roundTrip saves v and reads it back with Get[T] and HandleGet[T].
func roundTrip[T any](f *fixture, key string, v T) {
	f.t.Helper()
	f.save(dataID, key, v)
	got, err := session.Get[T](f.ctx, f.m, dataID, key)
	f.must(fmt.Sprintf("Get[%T](%q)", v, key), err)
	f.wantEqual(fmt.Sprintf("Get[%T](%q)", v, key), got, v)
	got, err = session.HandleGet[T](f.ctx, f.m.Session(dataID), key)
	f.must(fmt.Sprintf("HandleGet[%T](%q)", v, key), err)
	f.wantEqual(fmt.Sprintf("HandleGet[%T](%q)", v, key), got, v)
}

func dataTypedRoundTrip(f *fixture) {
	p := sampleProfile()
	roundTrip(f, "struct", p)
	roundTrip(f, "pointer", &p)
	roundTrip(f, "struct-nil-fields", profile{Name: "x"})
	roundTrip(f, "map-int", map[string]int{"a": 1, "b": -2, "zero": 0})
	roundTrip(f, "map-any", map[string]any{"s": "x", "n": 1.5, "b": true, "z": nil, "l": []any{1.0, "two"}, "m": map[string]any{"k": "v"}})
	roundTrip(f, "map-empty", map[string]string{})
	roundTrip(f, "slice-string", []string{"wamid.HBgM", "wamid.HBgN", ""})
	roundTrip(f, "slice-int", []int{3, 1, 2})
	roundTrip(f, "slice-struct", []address{{"a", "b"}, {"c", "d"}})
	roundTrip(f, "slice-empty", []int{})
	roundTrip(f, "int", 42)
	roundTrip(f, "int-negative", -17)
	roundTrip(f, "int64-beyond-float", int64(1<<53+1))
	roundTrip(f, "int64-min", int64(math.MinInt64))
	roundTrip(f, "uint64-max", uint64(math.MaxUint64))
	roundTrip(f, "float", 3.25)
	roundTrip(f, "float-tiny", 5e-324)
	roundTrip(f, "string", "hello")
	roundTrip(f, "string-empty", "")
	roundTrip(f, "string-unicode", "用户 ñ 👋 \u2028 \"quoted\" <html> \\ \n\t")
	roundTrip(f, "bool-true", true)
	roundTrip(f, "bool-false", false)
	roundTrip(f, "bytes", []byte{0, 1, 2, 0xfe, 0xff})

	// Times: the engines keep last activity as an ISO timestamp.
	at := time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.UTC)
	f.save(dataID, "time", at)
	got, err := session.Get[time.Time](f.ctx, f.m, dataID, "time")
	f.must("Get[time.Time]", err)
	if !got.Equal(at) {
		f.t.Errorf("Get[time.Time] = %v, want %v", got, at)
	}
}

func dataUntypedLoad(f *fixture) {
	cases := []struct {
		key       string
		save, got any
	}{
		{"int", 42, 42.0},
		{"float", 2.5, 2.5},
		{"string", "menu", "menu"},
		{"bool", true, true},
		{"nil", nil, nil},
		{"slice", []int{1, 2}, []any{1.0, 2.0}},
		{"slice-empty", []string{}, []any{}},
		{"map", map[string]int{"a": 1}, map[string]any{"a": 1.0}},
		{"map-empty", map[string]int{}, map[string]any{}},
		{"struct", sampleProfile(), sampleProfileJSON()},
	}
	want := map[string]any{}
	for _, c := range cases {
		f.save(dataID, c.key, c.save)
		want[c.key] = c.got
	}
	for _, c := range cases {
		f.wantLoad(dataID, c.key, c.got)
		v, err := f.m.Session(dataID).Load(f.ctx, c.key)
		f.must("handle Load", err)
		f.wantEqual("handle Load("+c.key+")", v, c.got)
	}
	f.wantData(dataID, want)
}

func dataLoadInto(f *fixture) {
	p := sampleProfile()
	f.save(dataID, "profile", p)
	f.save(dataID, "ids", []string{"a", "b"})
	f.save(dataID, "n", 7)

	var gotP profile
	f.must("LoadInto(*profile)", f.m.LoadInto(f.ctx, dataID, "profile", &gotP))
	f.wantEqual("LoadInto(*profile)", gotP, p)

	var gotM map[string]any
	f.must("LoadInto(*map)", f.m.LoadInto(f.ctx, dataID, "profile", &gotM))
	f.wantEqual("LoadInto(*map[string]any)", gotM, sampleProfileJSON())

	var gotS []string
	f.must("LoadInto(*[]string)", f.m.LoadInto(f.ctx, dataID, "ids", &gotS))
	f.wantEqual("LoadInto(*[]string)", gotS, []string{"a", "b"})

	var gotA any
	f.must("LoadInto(*any)", f.m.LoadInto(f.ctx, dataID, "n", &gotA))
	f.wantEqual("LoadInto(*any)", gotA, 7.0)

	var gotF float32
	f.must("LoadInto(*float32)", f.m.LoadInto(f.ctx, dataID, "n", &gotF))
	f.wantEqual("LoadInto(*float32)", gotF, float32(7))

	var gotH profile
	f.must("handle LoadInto", f.m.Session(dataID).LoadInto(f.ctx, "profile", &gotH))
	f.wantEqual("handle LoadInto(*profile)", gotH, p)
}

func dataNil(f *fixture) {
	f.save(dataID, "nil", nil)
	f.save(dataID, "nil-pointer", (*profile)(nil))
	f.save(dataID, "nil-map", map[string]int(nil))
	f.wantLoad(dataID, "nil", nil)
	f.wantLoad(dataID, "nil-pointer", nil)
	f.wantLoad(dataID, "nil-map", nil)
	f.wantBool("Exists of a key holding nil (nil is a value, not a missing key)", true)(f.m.Exists(f.ctx, dataID, "nil"))
	p, err := session.Get[*profile](f.ctx, f.m, dataID, "nil")
	f.must("Get[*profile](nil)", err)
	if p != nil {
		f.t.Errorf("Get[*profile] of nil = %+v, want nil", p)
	}
	f.wantData(dataID, map[string]any{"nil": nil, "nil-pointer": nil, "nil-map": nil})
}

func dataOverwrite(f *fixture) {
	f.save(dataID, "stage", "start")
	f.save(dataID, "stage", map[string]any{"step": 2})
	f.save(dataID, "stage", "end")
	f.wantLoad(dataID, "stage", "end")
	f.wantData(dataID, map[string]any{"stage": "end"})
	f.saveAll(dataID, map[string]any{"stage": "again", "x": 1})
	f.wantData(dataID, map[string]any{"stage": "again", "x": 1.0})
}

func dataSaveAllFetchAll(f *fixture) {
	f.save(dataID, "keep", "old")
	f.save(dataID, "replace", "old")
	f.saveProp(dataID, "prop", "not data")
	f.saveAll(dataID, map[string]any{
		"replace": "new",
		"stage":   "ask-name",
		"profile": sampleProfile(),
		"ids":     []string{"m1", "m2"},
		"nil":     nil,
	})
	want := map[string]any{
		"keep":    "old",
		"replace": "new",
		"stage":   "ask-name",
		"profile": sampleProfileJSON(),
		"ids":     []any{"m1", "m2"},
		"nil":     nil,
	}
	f.wantData(dataID, want)
	got, err := f.m.Session(dataID).FetchAll(f.ctx)
	if err := collection("handle FetchAll", got, err, want); err != nil {
		f.t.Error(err)
	}
	// SaveAll of nothing is not an error.
	f.must("SaveAll(empty map)", f.m.SaveAll(f.ctx, dataID, map[string]any{}))
	f.must("SaveAll(nil map) of a new session", f.m.SaveAll(f.ctx, "other", nil))
	f.wantData(dataID, want)
}

func dataExists(f *fixture) {
	exists := func(key string, want bool) {
		f.t.Helper()
		f.wantBool("Exists("+key+")", want)(f.m.Exists(f.ctx, dataID, key))
		f.wantBool("handle Exists("+key+")", want)(f.m.Session(dataID).Exists(f.ctx, key))
	}
	exists("stage", false)
	f.save(dataID, "stage", "")
	exists("stage", true)
	f.save(dataID, "zero", 0)
	exists("zero", true)
	f.saveProp(dataID, "name", "Ada")
	exists("name", false) // props are not data keys
	f.must("Evict(stage)", f.m.Evict(f.ctx, dataID, "stage"))
	exists("stage", false)
	exists("zero", true)
}

func dataEvictAll(f *fixture) {
	f.saveAll(dataID, map[string]any{"a": 1, "b": 2, "c": 3, "d": 4})
	f.saveProp(dataID, "a", "prop a")
	f.must("EvictAll(a, c, missing)", f.m.EvictAll(f.ctx, dataID, "a", "c", "missing"))
	f.wantData(dataID, map[string]any{"b": 2.0, "d": 4.0})
	f.wantProps(dataID, map[string]any{"a": "prop a"})
	f.must("EvictAll()", f.m.EvictAll(f.ctx, dataID))
	f.wantData(dataID, map[string]any{"b": 2.0, "d": 4.0})
	f.must("handle EvictAll(b, d)", f.m.Session(dataID).EvictAll(f.ctx, "b", "d"))
	f.wantData(dataID, map[string]any{})
	f.wantProps(dataID, map[string]any{"a": "prop a"})
	f.must("EvictAll(b) again", f.m.EvictAll(f.ctx, dataID, "b"))
}
