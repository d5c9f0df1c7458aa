package sessiontest

// profile is a typical value a bot keeps: nested struct, slice, map,
// pointer, numbers, bool.
type profile struct {
	Name    string            `json:"name"`
	Age     int               `json:"age"`
	Score   float64           `json:"score"`
	Active  bool              `json:"active"`
	Tags    []string          `json:"tags"`
	Meta    map[string]string `json:"meta"`
	Address *address          `json:"address,omitempty"`
}

type address struct {
	Line string `json:"line"`
	City string `json:"city"`
}

func sampleProfile() profile {
	return profile{
		Name:    "Ada Lovelace",
		Age:     36,
		Score:   99.5,
		Active:  true,
		Tags:    []string{"vip", "beta"},
		Meta:    map[string]string{"lang": "en", "channel": "whatsapp"},
		Address: &address{Line: "12 Samora Machel Ave", City: "Harare"},
	}
}

// sampleProfileJSON is sampleProfile in JSON's untyped form, as Load
// returns it.
func sampleProfileJSON() map[string]any {
	return map[string]any{
		"name":    "Ada Lovelace",
		"age":     36.0,
		"score":   99.5,
		"active":  true,
		"tags":    []any{"vip", "beta"},
		"meta":    map[string]any{"lang": "en", "channel": "whatsapp"},
		"address": map[string]any{"line": "12 Samora Machel Ave", "city": "Harare"},
	}
}
