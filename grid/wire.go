package grid

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Message types on the internal transport (0x02xx: the grid's range).
const (
	msgOp     uint16 = 0x0201 // one store operation for the partition's owner
	msgImport uint16 = 0x0202 // a batch of migrated records for a learner
	msgSynced uint16 = 0x0203 // a primary tells the coordinator a learner is in sync
	msgTable  uint16 = 0x0204 // fetch the table in force
	msgScan   uint16 = 0x0205 // keys of one partition
	msgDrain  uint16 = 0x0206 // a leaving member asks the coordinator to move its partitions away
	msgRESP   uint16 = 0x0207 // a batch of RESP commands for their keys' owner (pipelined forwarding)
)

// errMalformed reports a request or response that does not decode.
var errMalformed = errors.New("grid: malformed message")

// maxArgs bounds the arguments of one message (a SaveAll of many keys).
const maxArgs = 1 << 20

// appendList encodes a list of byte strings: uvarint count, then each as
// uvarint length and bytes.
func appendList(dst []byte, items ...[]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(items)))
	for _, it := range items {
		dst = binary.AppendUvarint(dst, uint64(len(it)))
		dst = append(dst, it...)
	}
	return dst
}

// listSize is the length of appendList's encoding of items.
func listSize(items ...[]byte) int {
	n := uvarintLen(uint64(len(items)))
	for _, it := range items {
		n += uvarintLen(uint64(len(it))) + len(it)
	}
	return n
}

// uvarintLen is the length of binary.AppendUvarint's encoding of v.
func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// decodeList decodes appendList's encoding. The items alias b.
func decodeList(b []byte) ([][]byte, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxArgs || n > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: bad count", errMalformed)
	}
	b = b[k:]
	items := make([][]byte, 0, n)
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, nil, fmt.Errorf("%w: bad item %d", errMalformed, i)
		}
		items = append(items, b[k:k+int(l):k+int(l)])
		b = b[k+int(l):]
	}
	return items, b, nil
}

// request is one operation sent to a partition's owner.
type request struct {
	op        byte
	epoch     uint64
	partition int
	args      [][]byte
}

func (r request) encode() []byte {
	size := 16
	for _, a := range r.args {
		size += len(a) + 5
	}
	b := make([]byte, 0, size)
	b = append(b, r.op)
	b = binary.AppendUvarint(b, r.epoch)
	b = binary.AppendUvarint(b, uint64(r.partition))
	return appendList(b, r.args...)
}

func decodeRequest(b []byte) (request, error) {
	var r request
	if len(b) < 1 {
		return r, fmt.Errorf("%w: empty request", errMalformed)
	}
	r.op = b[0]
	b = b[1:]
	e, k := binary.Uvarint(b)
	if k <= 0 {
		return r, fmt.Errorf("%w: bad epoch", errMalformed)
	}
	r.epoch = e
	b = b[k:]
	p, k := binary.Uvarint(b)
	if k <= 0 || p > 1<<16 {
		return r, fmt.Errorf("%w: bad partition", errMalformed)
	}
	r.partition = int(p)
	args, rest, err := decodeList(b[k:])
	if err != nil {
		return r, err
	}
	if len(rest) != 0 {
		return r, fmt.Errorf("%w: %d trailing bytes", errMalformed, len(rest))
	}
	r.args = args
	return r, nil
}

// Response status bytes.
const (
	statusOK       byte = 0
	statusRedirect byte = 1 // not the owner at this epoch: payload is the owner's epoch
)

func encodeResponse(items ...[]byte) []byte {
	return appendList([]byte{statusOK}, items...)
}

func encodeRedirect(epoch uint64) []byte {
	return binary.AppendUvarint([]byte{statusRedirect}, epoch)
}

// decodeResponse returns the items of an OK response, or redirected=true
// and the owner's epoch.
func decodeResponse(b []byte) (items [][]byte, redirected bool, epoch uint64, err error) {
	if len(b) < 1 {
		return nil, false, 0, fmt.Errorf("%w: empty response", errMalformed)
	}
	switch b[0] {
	case statusOK:
		items, rest, err := decodeList(b[1:])
		if err == nil && len(rest) != 0 {
			err = fmt.Errorf("%w: trailing bytes", errMalformed)
		}
		return items, false, 0, err
	case statusRedirect:
		e, k := binary.Uvarint(b[1:])
		if k <= 0 {
			return nil, false, 0, fmt.Errorf("%w: bad redirect", errMalformed)
		}
		return nil, true, e, nil
	}
	return nil, false, 0, fmt.Errorf("%w: status %d", errMalformed, b[0])
}

func u64(v uint64) []byte { return binary.AppendUvarint(nil, v) }

func i64(v int64) []byte { return binary.AppendVarint(nil, v) }

func getU64(b []byte) (uint64, error) {
	v, k := binary.Uvarint(b)
	if k <= 0 || k != len(b) {
		return 0, fmt.Errorf("%w: bad integer", errMalformed)
	}
	return v, nil
}

func getI64(b []byte) (int64, error) {
	v, k := binary.Varint(b)
	if k <= 0 || k != len(b) {
		return 0, fmt.Errorf("%w: bad integer", errMalformed)
	}
	return v, nil
}

func boolb(v bool) []byte {
	if v {
		return []byte{1}
	}
	return []byte{0}
}
