package session

import "encoding/json"

// Codec encodes values for storage and decodes them back. Implementations
// must be safe for concurrent use. Decode must not keep data.
type Codec interface {
	// Encode returns the encoding of v.
	Encode(v any) ([]byte, error)
	// Decode decodes data into the value pointed to by dst.
	Decode(data []byte, dst any) error
}

// JSON is the default codec: encoding/json, so that Python (pywce) and
// Java (jawce) clients of the grid read and write the same bytes. Decoding
// into an untyped value gives JSON's types (float64 numbers, map[string]any
// objects, []any arrays); use the typed getters to decode into a struct.
type JSON struct{}

// Encode implements Codec.
func (JSON) Encode(v any) ([]byte, error) { return json.Marshal(v) }

// Decode implements Codec.
func (JSON) Decode(data []byte, dst any) error { return json.Unmarshal(data, dst) }
