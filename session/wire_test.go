package session_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
)

func TestErrorCode(t *testing.T) {
	cases := []struct {
		err  error
		code string
	}{
		{nil, ""},
		{errors.New("boom"), ""},
		{session.ErrNotFound, ""},
		{session.ErrCodec, ""},
		{session.ErrWrongType, "WRONGTYPE"},
		{fmt.Errorf("store: %w", session.ErrInvalidID), "INVALIDID"},
		{fmt.Errorf("store: %w", session.ErrInvalidKey), "INVALIDKEY"},
		{fmt.Errorf("store: %w", session.ErrTooLarge), "TOOLARGE"},
		{session.ErrUnavailable, "UNAVAILABLE"},
		{fmt.Errorf("store: %w", session.ErrClosed), "UNAVAILABLE"},
		{context.Canceled, "UNAVAILABLE"},
		{fmt.Errorf("op: %w", context.DeadlineExceeded), "UNAVAILABLE"},
		// Several sentinels: the earliest row of the table wins.
		{fmt.Errorf("%w: %w", session.ErrUnavailable, session.ErrWrongType), "WRONGTYPE"},
	}
	for _, tc := range cases {
		if got := session.ErrorCode(tc.err); got != tc.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.code)
		}
	}
}

func TestErrorForCode(t *testing.T) {
	cases := []struct {
		code string
		err  error
	}{
		{"WRONGTYPE", session.ErrWrongType},
		{"INVALIDID", session.ErrInvalidID},
		{"INVALIDKEY", session.ErrInvalidKey},
		{"TOOLARGE", session.ErrTooLarge},
		{"UNAVAILABLE", session.ErrUnavailable},
		{"ERR", nil},
		{"NOAUTH", nil},
		{"wrongtype", nil},
		{"", nil},
	}
	for _, tc := range cases {
		if got := session.ErrorForCode(tc.code); got != tc.err {
			t.Errorf("ErrorForCode(%q) = %v, want %v", tc.code, got, tc.err)
		}
	}
	// Every code read back encodes to itself.
	for _, err := range []error{session.ErrWrongType, session.ErrInvalidID, session.ErrInvalidKey, session.ErrTooLarge, session.ErrUnavailable} {
		if got := session.ErrorForCode(session.ErrorCode(err)); got != err {
			t.Errorf("ErrorForCode(ErrorCode(%v)) = %v", err, got)
		}
	}
}
