package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
)

// BenchSessions is how many sessions Fill saves.
const BenchSessions = 1000

// BenchID returns the id of the i-th session Fill saved (i modulo
// BenchSessions).
func BenchID(i int) string { return fmt.Sprint("2637700", i%BenchSessions) }

// ChatbotSession returns the fields of a typical WCE session (WORKLOAD.md):
// 14 keys, about 4 KB, the message-id history being the largest.
func ChatbotSession() []session.Field {
	hist := make([]string, 60)
	for i := range hist {
		hist[i] = fmt.Sprintf(`"wamid.HBgMMjYzNzcxMjM0NTY3FQIAEhggQjk%04d"`, i)
	}
	kv := map[string]string{
		"stage": `"MAIN-MENU"`, "prev_stage": `"START-MENU"`, "last_activity": `"2026-01-02T03:04:05.123456"`,
		"debounce": `1767323045.123`, "last_msg_id": `"wamid.HBgMMjYzNzcxMjM0NTY3FQIAEhggQjkxRTE3"`,
		"msg_ids": "[" + strings.Join(hist, ",") + "]", "checkpoint": `"MAIN-MENU"`, "retry": `false`,
		"auth": `{"token":"` + strings.Repeat("t", 150) + `","role":"user"}`, "auth_expiry": `1767326645`,
		"name": `"Ada Lovelace"`, "number": `"263771234567"`, "lang": `"en"`, "flow": `"onboarding"`,
	}
	var fields []session.Field
	for k, v := range kv {
		fields = append(fields, session.Field{Key: k, Value: []byte(v)})
	}
	return fields
}

// Fill saves BenchSessions chatbot sessions into s.
func Fill(b *testing.B, s session.Store) {
	b.Helper()
	fields := ChatbotSession()
	for i := range BenchSessions {
		if _, err := s.Save(context.Background(), BenchID(i), fields...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchGet reads one key of a 4 KB session among the BenchSessions of s
// (filled by Fill).
func BenchGet(b *testing.B, s session.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := s.Get(ctx, BenchID(i), "stage"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchSave writes one key of a 4 KB session among BenchSessions, in the
// subtests fsync=false and fsync=true; open returns the filled store, with
// fsync on or off.
func BenchSave(b *testing.B, open func(b *testing.B, fsync bool) session.Store) {
	for _, fsync := range []bool{false, true} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) {
			s := open(b, fsync)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				f := session.Field{Key: "stage", Value: []byte(fmt.Sprintf(`"STAGE-%d"`, i))}
				if _, err := s.Save(ctx, BenchID(i), f); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
