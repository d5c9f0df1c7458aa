package e2e

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// The checkers of a workload's history:
//   - porcupine, per key: the sessions as registers of a few fields each
//     (HSET/HGET/DEL), the globals as registers; operations whose outcome is
//     unknown are open-ended (they may take effect at any time after their
//     call, or never), failed reads and never-sent writes are dropped;
//   - the set check: every acknowledged write (new session, last HSET, DEL,
//     GLOBAL.SET) is seen by the final reads from every member, or a write
//     that may have followed it is.

// open is the return time of an open-ended operation.
const open = int64(math.MaxInt64 / 2)

// sessionState is one session: the value of each field, "" when absent.
type sessionState [3]string

type sessionInput struct {
	Kind  string
	Field int
	Value string
}

type output struct {
	Unknown bool
	Read    string
	N       int64
}

var sessionModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return sessionState{} },
	Step: func(state, input, out any) (bool, any) {
		s, in, o := state.(sessionState), input.(sessionInput), out.(output)
		switch in.Kind {
		case opHSet:
			added := int64(0)
			if s[in.Field] == "" {
				added = 1
			}
			if !o.Unknown && o.N != added {
				return false, s
			}
			s[in.Field] = in.Value
			return true, s
		case opDel:
			existed := int64(0)
			if s != (sessionState{}) {
				existed = 1
			}
			if !o.Unknown && o.N != existed {
				return false, s
			}
			return true, sessionState{}
		default: // opHGet
			return o.Read == s[in.Field], s
		}
	},
	DescribeOperation: func(input, out any) string {
		in, o := input.(sessionInput), out.(output)
		switch in.Kind {
		case opHSet:
			if o.Unknown {
				return fmt.Sprintf("HSET %s %s -> ?", fields[in.Field], in.Value)
			}
			return fmt.Sprintf("HSET %s %s -> %d", fields[in.Field], in.Value, o.N)
		case opDel:
			if o.Unknown {
				return "DEL -> ?"
			}
			return fmt.Sprintf("DEL -> %d", o.N)
		default:
			return fmt.Sprintf("HGET %s -> %q", fields[in.Field], o.Read)
		}
	},
	DescribeState: func(state any) string {
		s := state.(sessionState)
		var parts []string
		for i, v := range s {
			if v != "" {
				parts = append(parts, fields[i]+"="+v)
			}
		}
		return "{" + strings.Join(parts, " ") + "}"
	},
}

type globalInput struct {
	Set   bool
	Value string
}

var globalModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return "" },
	Step: func(state, input, out any) (bool, any) {
		in, o := input.(globalInput), out.(output)
		if in.Set {
			return true, in.Value
		}
		return o.Read == state.(string), state
	},
	DescribeOperation: func(input, out any) string {
		in, o := input.(globalInput), out.(output)
		if in.Set {
			if o.Unknown {
				return fmt.Sprintf("SET %s -> ?", in.Value)
			}
			return fmt.Sprintf("SET %s", in.Value)
		}
		return fmt.Sprintf("GET -> %q", o.Read)
	},
	DescribeState: func(state any) string { return fmt.Sprintf("%q", state) },
}

// partitionByKey splits a history by the key in each operation's metadata.
func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	var keys []string
	for _, o := range history {
		k := o.Metadata.(string)
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], o)
	}
	sort.Strings(keys)
	out := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		out = append(out, byKey[k])
	}
	return out
}

// porcupineOps turns the history into porcupine operations of the sessions
// (globals false) or of the globals (true).
func porcupineOps(history []op, globals bool) []porcupine.Operation {
	var out []porcupine.Operation
	dense := map[int]int{} // porcupine wants client ids from 0 for its visualisation
	for _, o := range history {
		isGlobal := o.Kind == opGSet || o.Kind == opGGet
		isSession := o.Kind == opHSet || o.Kind == opHGet || o.Kind == opDel
		if (globals && !isGlobal) || (!globals && !isSession) || o.Outcome == failed {
			continue
		}
		read := o.Kind == opHGet || o.Kind == opGGet
		if read && o.Outcome != ok {
			continue // a failed read tells nothing
		}
		id, seen := dense[o.Client]
		if !seen {
			id = len(dense)
			dense[o.Client] = id
		}
		p := porcupine.Operation{ClientId: id, Call: o.Call, Return: o.Return, Metadata: o.Key,
			Output: output{Unknown: o.Outcome == unknown, Read: o.Read, N: o.N}}
		if o.Outcome == unknown {
			p.Return = open
		}
		if globals {
			p.Input = globalInput{Set: o.Kind == opGSet, Value: o.Value}
		} else {
			p.Input = sessionInput{Kind: o.Kind, Field: o.Field, Value: o.Value}
		}
		out = append(out, p)
	}
	return out
}

// linearizable checks one model over the history. On a failure (illegal, or
// unknown because the checker ran out of time) it writes porcupine's HTML
// visualisation into dir and names it in the returned error.
func linearizable(name string, model porcupine.Model, ops []porcupine.Operation, dir string) error {
	if len(ops) == 0 {
		return nil
	}
	res, info := porcupine.CheckOperationsVerbose(model, ops, 60*time.Second)
	if res == porcupine.Ok {
		return nil
	}
	err := fmt.Errorf("%s: porcupine says %s over %d operations", name, res, len(ops))
	if dir != "" {
		if mkErr := os.MkdirAll(dir, 0o755); mkErr == nil {
			path := filepath.Join(dir, name+".html")
			if vErr := porcupine.VisualizePath(model, info, path); vErr == nil {
				err = fmt.Errorf("%w; visualisation: %s", err, path)
			}
		}
	}
	return err
}

// lostWrite is an acknowledged write that the final reads do not reflect.
type lostWrite struct {
	Write op
	Seen  string // what the member read instead
	On    string // the member
}

func (l lostWrite) String() string {
	w := l.Write
	what := fmt.Sprintf("%s %s=%s", w.Kind, w.Key, w.Value)
	if w.Kind == opHSet {
		what = fmt.Sprintf("HSET %s %s %s", w.Key, fields[w.Field], w.Value)
	} else if w.Kind == opDel {
		what = "DEL " + w.Key
	}
	return fmt.Sprintf("%s acknowledged at %.3fs via %s; %s reads %q at the end", what,
		float64(w.Return)/1e9, w.Member, l.On, l.Seen)
}

// setCheck compares the final reads with the acknowledged writes. It
// returns the acknowledged writes lost (each once), the final reads that
// failed, and reads of a value nobody wrote.
func setCheck(history, final []op) (lost []lostWrite, unreadable []op, corrupt []op) {
	type register struct {
		kind  string // opHGet, opGGet, opNewGet
		key   string
		field int
	}
	writes := map[register][]op{} // every write that may have been applied
	for _, o := range history {
		if o.Outcome == failed {
			continue
		}
		switch o.Kind {
		case opHSet:
			r := register{opHGet, o.Key, o.Field}
			writes[r] = append(writes[r], o)
		case opGSet:
			r := register{opGGet, o.Key, 0}
			writes[r] = append(writes[r], o)
		case opNew:
			r := register{opNewGet, o.Key, 0}
			writes[r] = append(writes[r], o)
		}
	}
	for _, o := range history { // a DEL writes every field of its session
		if o.Kind == opDel && o.Outcome != failed {
			for f := range fields {
				r := register{opHGet, o.Key, f}
				writes[r] = append(writes[r], o)
			}
		}
	}
	returned := func(o op) int64 {
		if o.Outcome == unknown {
			return open
		}
		return o.Return
	}
	valueOf := func(o op) string {
		if o.Kind == opDel {
			return ""
		}
		return o.Value
	}
	isLost := map[string]bool{}
	for _, f := range final {
		r := register{f.Kind, f.Key, f.Field}
		if f.Outcome != ok {
			unreadable = append(unreadable, f)
			continue
		}
		ws := writes[r]
		// The writes that could explain the value read; the initial
		// (absent) state explains "" and returned before everything.
		explainedUntil := int64(math.MinInt64) // latest return among explaining writes
		found := f.Read == ""
		for _, w := range ws {
			if valueOf(w) == f.Read {
				found = true
				if rt := returned(w); rt > explainedUntil {
					explainedUntil = rt
				}
			}
		}
		if !found {
			corrupt = append(corrupt, f)
			continue
		}
		for _, w := range ws {
			if w.Outcome != ok || valueOf(w) == f.Read {
				continue
			}
			// An acknowledged write that began after every write that
			// could explain the read had returned: it is gone.
			if w.Call > explainedUntil {
				id := fmt.Sprintf("%s\x00%s\x00%d\x00%d", w.Kind, w.Key, w.Field, w.Call)
				if !isLost[id] {
					isLost[id] = true
					lost = append(lost, lostWrite{Write: w, Seen: f.Read, On: f.Member})
				}
			}
		}
	}
	return lost, unreadable, corrupt
}

// figures sums up one run for the log and the README.
type figures struct {
	Ops, Errors, Unknown int
	MaxGap               time.Duration // longest time a key went without a successful operation
	MaxGapKey            string
	Lost                 int
}

func (f figures) String() string {
	return fmt.Sprintf("ops=%d errors=%d (indeterminate %d) longest-unavailable=%.1fs (%s) lost=%d",
		f.Ops, f.Errors, f.Unknown, f.MaxGap.Seconds(), f.MaxGapKey, f.Lost)
}

// measure computes the figures of a workload history (final reads apart).
func measure(history []op, lost int) figures {
	f := figures{Ops: len(history), Lost: lost}
	var end int64
	lastOK := map[string]int64{}
	for _, o := range history {
		if o.Return > end {
			end = o.Return
		}
	}
	byReturn := append([]op(nil), history...)
	sort.Slice(byReturn, func(i, j int) bool { return byReturn[i].Return < byReturn[j].Return })
	for _, o := range byReturn {
		if o.Outcome != ok {
			f.Errors++
			if o.Outcome == unknown {
				f.Unknown++
			}
			continue
		}
		if o.Kind == opNew {
			continue // a key written once: no gap to measure
		}
		last, seen := lastOK[o.Key]
		if !seen {
			last = 0
		}
		if gap := time.Duration(o.Return - last); gap > f.MaxGap {
			f.MaxGap, f.MaxGapKey = gap, o.Key
		}
		lastOK[o.Key] = o.Return
	}
	for k, last := range lastOK {
		if gap := time.Duration(end - last); gap > f.MaxGap {
			f.MaxGap, f.MaxGapKey = gap, k
		}
	}
	return f
}
