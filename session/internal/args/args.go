// Package args checks the arguments of the session.Store methods that take
// many at once (Save's fields, Evict's keys), for every backend, with the
// errors of session.ValidateKey and session.ValidateValue.
package args

import "github.com/sessiongrid/sessiongrid/session"

// Fields checks the key and value of every field, in order, against
// maxValueSize (session.ValidateValue's limit), and returns the first
// error.
func Fields(fields []session.Field, maxValueSize int) error {
	for _, f := range fields {
		if err := session.ValidateKey(f.Key); err != nil {
			return err
		}
		if err := session.ValidateValue(f.Value, maxValueSize); err != nil {
			return err
		}
	}
	return nil
}

// Keys checks every key, in order, and returns the first error.
func Keys(keys []string) error {
	for _, k := range keys {
		if err := session.ValidateKey(k); err != nil {
			return err
		}
	}
	return nil
}
