package sessiontest

import (
	"github.com/sessiongrid/sessiongrid/session"
)

// propRules: props are a second map of a session (the answers a user gave),
// beside its data keys and independent of them.
func propRules() []rule {
	return []rule{
		{"RoundTrip", propRoundTrip},
		{"EvictPropReportsExisted", propEvict},
		{"SeparateFromData", propSeparate},
		{"SavePropCreatesSession", propCreates},
	}
}

const propID = "263771234567"

func propRoundTrip(f *fixture) {
	p := sampleProfile()
	f.saveProp(propID, "profile", p)
	f.saveProp(propID, "age", 36)
	f.saveProp(propID, "choices", []string{"pizza", "pasta"})
	f.saveProp(propID, "confirmed", false)
	f.saveProp(propID, "nothing", nil)
	f.must("handle SaveProp", f.m.Session(propID).SaveProp(f.ctx, "city", "Harare"))
	f.saveProp(propID, "age", 37) // overwrite

	v, err := f.m.LoadProp(f.ctx, propID, "choices")
	f.must("LoadProp(choices)", err)
	f.wantEqual("LoadProp(choices)", v, []any{"pizza", "pasta"})
	v, err = f.m.LoadProp(f.ctx, propID, "nothing")
	f.must("LoadProp(nothing)", err)
	f.wantEqual("LoadProp(nothing)", v, nil)

	var gotP profile
	f.must("LoadPropInto(profile)", f.m.LoadPropInto(f.ctx, propID, "profile", &gotP))
	f.wantEqual("LoadPropInto(profile)", gotP, p)
	age, err := session.GetProp[int](f.ctx, f.m, propID, "age")
	f.must("GetProp[int](age)", err)
	f.wantEqual("GetProp[int](age)", age, 37)
	conf, err := session.GetProp[bool](f.ctx, f.m, propID, "confirmed")
	f.must("GetProp[bool](confirmed)", err)
	f.wantEqual("GetProp[bool](confirmed)", conf, false)
	h := f.m.Session(propID)
	hp, err := session.HandleGetProp[*profile](f.ctx, h, "profile")
	f.must("HandleGetProp[*profile]", err)
	if hp == nil || hp.Name != p.Name || hp.Address == nil || *hp.Address != *p.Address {
		f.t.Errorf("HandleGetProp[*profile] = %s, want %s", show(hp), show(&p))
	}
	city, err := h.LoadProp(f.ctx, "city")
	f.must("handle LoadProp(city)", err)
	f.wantEqual("handle LoadProp(city)", city, "Harare")
	var ch []string
	f.must("handle LoadPropInto(choices)", h.LoadPropInto(f.ctx, "choices", &ch))
	f.wantEqual("handle LoadPropInto(choices)", ch, []string{"pizza", "pasta"})

	f.wantProps(propID, map[string]any{
		"profile":   sampleProfileJSON(),
		"age":       37.0,
		"choices":   []any{"pizza", "pasta"},
		"confirmed": false,
		"nothing":   nil,
		"city":      "Harare",
	})
}

func propEvict(f *fixture) {
	f.saveProp(propID, "name", "Ada")
	f.saveProp(propID, "city", "Harare")
	f.saveProp(propID, "nil", nil)
	evict := func(key string, want bool) {
		f.t.Helper()
		f.wantBool("EvictProp("+key+")", want)(f.m.EvictProp(f.ctx, propID, key))
	}
	evict("name", true)
	evict("name", false)
	evict("nil", true) // a prop holding nil exists
	f.wantPropNotFound(propID, "name")
	f.wantProps(propID, map[string]any{"city": "Harare"})
	f.wantBool("handle EvictProp(city)", true)(f.m.Session(propID).EvictProp(f.ctx, "city"))
	f.wantProps(propID, map[string]any{})
	evict("city", false)
}

func propSeparate(f *fixture) {
	f.save(propID, "stage", "data")
	f.save(propID, "shared", "data")
	f.saveProp(propID, "shared", "prop")
	f.saveProp(propID, "answer", "prop")
	f.wantData(propID, map[string]any{"stage": "data", "shared": "data"})
	f.wantProps(propID, map[string]any{"shared": "prop", "answer": "prop"})
	f.wantLoad(propID, "shared", "data")
	v, err := f.m.LoadProp(f.ctx, propID, "shared")
	f.must("LoadProp(shared)", err)
	f.wantEqual("LoadProp(shared)", v, "prop")
	f.wantKeyNotFound(propID, "answer")
	f.wantPropNotFound(propID, "stage")
	f.must("EvictAll(shared, answer)", f.m.EvictAll(f.ctx, propID, "shared", "answer"))
	f.wantProps(propID, map[string]any{"shared": "prop", "answer": "prop"})
}

func propCreates(f *fixture) {
	f.saveProp("new-user", "name", "Ada")
	f.wantSession("new-user")
	f.wantData("new-user", map[string]any{})
	f.wantProps("new-user", map[string]any{"name": "Ada"})
	ttl, err := f.m.TTL(f.ctx, "new-user")
	f.must("TTL", err)
	if ttl <= 0 || ttl > f.idle {
		f.t.Errorf("TTL of a session created by SaveProp = %v, want in (0, %v]", ttl, f.idle)
	}
}
