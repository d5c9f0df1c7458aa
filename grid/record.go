package grid

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// appendRecord encodes one record for migration: kind, times, key, value,
// then data and props as lists.
func appendRecord(dst []byte, r memory.Record) []byte {
	dst = append(dst, byte(r.Kind))
	dst = binary.AppendVarint(dst, int64(r.Idle))
	dst = binary.AppendVarint(dst, unixNano(r.Touched))
	dst = binary.AppendVarint(dst, unixNano(r.Deadline))
	dst = appendList(dst, []byte(r.Key), r.Value)
	dst = appendFields(dst, r.Data)
	return appendFields(dst, r.Props)
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func appendFields(dst []byte, fs []session.Field) []byte {
	items := make([][]byte, 0, 2*len(fs))
	for _, f := range fs {
		items = append(items, []byte(f.Key), f.Value)
	}
	return appendList(dst, items...)
}

func decodeRecord(b []byte) (memory.Record, []byte, error) {
	var r memory.Record
	if len(b) < 1 || b[0] > byte(session.KindString) {
		return r, nil, fmt.Errorf("%w: record kind", errMalformed)
	}
	r.Kind = session.Kind(b[0])
	b = b[1:]
	var times [3]int64
	for i := range times {
		v, k := binary.Varint(b)
		if k <= 0 {
			return r, nil, fmt.Errorf("%w: record times", errMalformed)
		}
		times[i] = v
		b = b[k:]
	}
	r.Idle = time.Duration(times[0])
	if times[1] != 0 {
		r.Touched = time.Unix(0, times[1])
	}
	if times[2] != 0 {
		r.Deadline = time.Unix(0, times[2])
	}
	kv, b, err := decodeList(b)
	if err != nil || len(kv) != 2 {
		return r, nil, fmt.Errorf("%w: record key", errMalformed)
	}
	r.Key, r.Value = string(kv[0]), kv[1]
	if r.Data, b, err = decodeFields(b); err != nil {
		return r, nil, err
	}
	if r.Props, b, err = decodeFields(b); err != nil {
		return r, nil, err
	}
	return r, b, nil
}

func decodeFields(b []byte) ([]session.Field, []byte, error) {
	items, rest, err := decodeList(b)
	if err != nil {
		return nil, nil, err
	}
	if len(items)%2 != 0 {
		return nil, nil, fmt.Errorf("%w: odd field list", errMalformed)
	}
	fs := make([]session.Field, 0, len(items)/2)
	for i := 0; i < len(items); i += 2 {
		fs = append(fs, session.Field{Key: string(items[i]), Value: items[i+1]})
	}
	return fs, rest, nil
}
