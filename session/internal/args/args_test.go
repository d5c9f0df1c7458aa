package args_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/args"
)

func TestFields(t *testing.T) {
	tests := []struct {
		name   string
		fields []session.Field
		want   error
	}{
		{"none", nil, nil},
		{"ok", []session.Field{{Key: "a", Value: []byte("12345")}, {Key: "b"}}, nil},
		{"empty key", []session.Field{{Key: "a"}, {Key: ""}}, session.ErrInvalidKey},
		{"long key", []session.Field{{Key: strings.Repeat("k", session.MaxKeyLen+1)}}, session.ErrInvalidKey},
		{"large value", []session.Field{{Key: "a", Value: []byte("123456")}}, session.ErrTooLarge},
		{"key checked before value", []session.Field{{Key: "", Value: []byte("123456")}}, session.ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := args.Fields(tt.fields, 5)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Fields = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	if err := args.Keys([]string{"a", "b"}); err != nil {
		t.Fatalf("Keys(a, b) = %v", err)
	}
	if err := args.Keys(nil); err != nil {
		t.Fatalf("Keys() = %v", err)
	}
	if err := args.Keys([]string{"a", ""}); !errors.Is(err, session.ErrInvalidKey) {
		t.Fatalf("Keys(a, \"\") = %v, want ErrInvalidKey", err)
	}
}
