// Package register is the porcupine model of a linearizable register per
// key, shared by the linearizability tests of the grid's sessions and of the
// replicated globals: a write sets a key's value, a delete removes it, a
// read returns it or "not found".
package register

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// Op is what an operation does to its key.
type Op byte

// The operations of the model.
const (
	Read Op = iota
	Write
	Delete
)

func (o Op) String() string {
	switch o {
	case Write:
		return "write"
	case Delete:
		return "delete"
	}
	return "read"
}

// Input is one operation on one key; Value is the written value.
type Input struct {
	Op    Op
	Key   string
	Value string
}

// Output is what an operation returned: Found and Value for a read;
// Unknown for a write or delete that failed, so that its outcome is
// unknown (record it with Return at +inf).
type Output struct {
	Found   bool
	Value   string
	Unknown bool
}

// Model checks histories of Input and Output operations, partitioned by key.
var Model = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(Input).Key
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(byKey))
		for _, ops := range byKey {
			out = append(out, ops)
		}
		return out
	},
	Init: func() any { return Output{} }, // the state: Found and Value
	Step: func(state, input, output any) (bool, any) {
		st, in, out := state.(Output), input.(Input), output.(Output)
		switch in.Op {
		case Write:
			return true, Output{Found: true, Value: in.Value}
		case Delete:
			return true, Output{}
		}
		return out.Found == st.Found && out.Value == st.Value, state
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(Input), output.(Output)
		unknown := ""
		if out.Unknown {
			unknown = " -> ?"
		}
		switch {
		case in.Op == Write:
			return fmt.Sprintf("%v(%s, %s)%s", in.Op, in.Key, in.Value, unknown)
		case in.Op == Delete:
			return fmt.Sprintf("%v(%s)%s", in.Op, in.Key, unknown)
		case !out.Found:
			return fmt.Sprintf("read(%s) -> not found", in.Key)
		}
		return fmt.Sprintf("read(%s) -> %s", in.Key, out.Value)
	},
}
