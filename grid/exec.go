package grid

import (
	"context"
	"fmt"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// Operation codes on the wire. Part of the protocol: never renumber.
const (
	opSave byte = iota + 1
	opGet
	opGetAll
	opExists
	opEvict
	opClear
	opSaveProp
	opGetProp
	opProps
	opEvictProp
	opSetExpiry
	opTTL
	opGetString
	opSetString
	opDeleteIf
	opKindOf
	opDelete
)

func isWrite(op byte) bool {
	switch op {
	case opSave, opEvict, opClear, opSaveProp, opEvictProp, opSetExpiry, opSetString, opDeleteIf, opDelete:
		return true
	}
	return false
}

func wantArgs(args [][]byte, min int, even bool) error {
	if len(args) < min || (even && (len(args)-1)%2 != 0) {
		return fmt.Errorf("%w: %d arguments", errMalformed, len(args))
	}
	return nil
}

func pairs(m map[string][]byte) [][]byte {
	out := make([][]byte, 0, 2*len(m))
	for k, v := range m {
		out = append(out, []byte(k), v)
	}
	return out
}

func strs(b [][]byte) []string {
	out := make([]string, len(b))
	for i, x := range b {
		out[i] = string(x)
	}
	return out
}

// exec runs one operation decoded from the wire on a local store and
// returns the reply items. args[0] is always the key.
func exec(ctx context.Context, s *memory.Store, op byte, args [][]byte) ([][]byte, error) {
	id := string(args[0])
	switch op {
	case opSave:
		if err := wantArgs(args, 3, true); err != nil {
			return nil, err
		}
		fs := make([]session.Field, 0, (len(args)-1)/2)
		for i := 1; i < len(args); i += 2 {
			fs = append(fs, session.Field{Key: string(args[i]), Value: args[i+1]})
		}
		n, err := s.Save(ctx, id, fs...)
		return [][]byte{u64(uint64(n))}, err
	case opGet, opGetProp, opExists, opEvictProp:
		if err := wantArgs(args, 2, false); err != nil {
			return nil, err
		}
		key := string(args[1])
		switch op {
		case opGet:
			v, err := s.Get(ctx, id, key)
			return [][]byte{v}, err
		case opGetProp:
			v, err := s.GetProp(ctx, id, key)
			return [][]byte{v}, err
		case opExists:
			ok, err := s.Exists(ctx, id, key)
			return [][]byte{boolb(ok)}, err
		default:
			ok, err := s.EvictProp(ctx, id, key)
			return [][]byte{boolb(ok)}, err
		}
	case opGetAll:
		m, err := s.GetAll(ctx, id)
		return pairs(m), err
	case opProps:
		m, err := s.Props(ctx, id)
		return pairs(m), err
	case opEvict:
		n, err := s.Evict(ctx, id, strs(args[1:])...)
		return [][]byte{u64(uint64(n))}, err
	case opClear:
		if err := wantArgs(args, 2, false); err != nil {
			return nil, err
		}
		if len(args[1]) != 1 || args[1][0] > 1 {
			return nil, fmt.Errorf("%w: bad clear mode", errMalformed)
		}
		var retain []string
		if args[1][0] == 1 {
			retain = strs(args[2:])
			if len(retain) == 0 {
				return nil, fmt.Errorf("%w: empty retain list", errMalformed)
			}
		}
		ok, err := s.Clear(ctx, id, retain...)
		return [][]byte{boolb(ok)}, err
	case opSaveProp:
		if err := wantArgs(args, 3, false); err != nil {
			return nil, err
		}
		return nil, s.SaveProp(ctx, id, string(args[1]), args[2])
	case opSetExpiry:
		if err := wantArgs(args, 3, false); err != nil {
			return nil, err
		}
		idle, err1 := getI64(args[1])
		ttl, err2 := getI64(args[2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%w: bad expiry", errMalformed)
		}
		return nil, s.SetExpiry(ctx, id, session.Expiry{Idle: time.Duration(idle), TTL: time.Duration(ttl)})
	case opTTL:
		d, err := s.TTL(ctx, id)
		return [][]byte{i64(int64(d))}, err
	case opGetString:
		v, err := s.GetString(ctx, id)
		return [][]byte{v}, err
	case opSetString:
		if err := wantArgs(args, 6, false); err != nil {
			return nil, err
		}
		ttl, err := getI64(args[4])
		if err != nil || len(args[2]) != 1 || args[2][0] > byte(session.SetIfEqual) || len(args[5]) != 1 {
			return nil, fmt.Errorf("%w: bad set options", errMalformed)
		}
		opt := session.SetOptions{
			Cond:    session.SetCondition(args[2][0]),
			Match:   args[3],
			TTL:     time.Duration(ttl),
			KeepTTL: args[5][0]&1 != 0,
			Get:     args[5][0]&2 != 0,
		}
		r, err := s.SetString(ctx, id, args[1], opt)
		return [][]byte{boolb(r.Applied), boolb(r.Existed), boolb(r.Old != nil), r.Old}, err
	case opDeleteIf:
		if err := wantArgs(args, 3, false); err != nil {
			return nil, err
		}
		ok, err := s.DeleteIf(ctx, id, len(args[1]) == 1 && args[1][0] == 1, args[2])
		return [][]byte{boolb(ok)}, err
	case opKindOf:
		k, err := s.KindOf(ctx, id)
		return [][]byte{{byte(k)}}, err
	case opDelete:
		n, err := s.Delete(ctx, id)
		return [][]byte{u64(uint64(n))}, err
	}
	return nil, fmt.Errorf("%w: unknown operation %d", errMalformed, op)
}
