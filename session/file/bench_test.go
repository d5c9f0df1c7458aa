package file_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/file"
)

// chatbotSession returns the fields of a typical WCE session (WORKLOAD.md):
// 14 keys, about 4 KB, the message-id history being the largest.
func chatbotSession() []session.Field {
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

const benchSessions = 1000

func benchStore(b *testing.B, fsync bool) *file.Store {
	b.Helper()
	cfg := file.DefaultConfig()
	cfg.Dir = b.TempDir()
	cfg.Fsync = fsync
	cfg.SweepInterval = -1
	s, err := file.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	fields := chatbotSession()
	for i := range benchSessions {
		if _, err := s.Save(context.Background(), fmt.Sprint("2637700", i), fields...); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkGet reads one key of a 4 KB session among 1,000.
func BenchmarkGet(b *testing.B) {
	s := benchStore(b, false)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := s.Get(ctx, fmt.Sprint("2637700", i%benchSessions), "stage"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSave writes one key of a 4 KB session among 1,000 (a whole-file
// rewrite), with and without fsync.
func BenchmarkSave(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) {
			s := benchStore(b, fsync)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				f := session.Field{Key: "stage", Value: []byte(fmt.Sprintf(`"STAGE-%d"`, i))}
				if _, err := s.Save(ctx, fmt.Sprint("2637700", i%benchSessions), f); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
