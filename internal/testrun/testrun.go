// Package testrun runs the workers of a test at once, as the tests of
// concurrent clients do, and fails the test with their errors.
package testrun

import (
	"errors"
	"sync"
	"testing"
)

// Concurrently runs f(0) to f(n-1) in goroutines at once, waits for them
// all and fails t (Fatal: call it from the test's goroutine) with their
// errors. f must not call t.Fatal; it returns its error instead.
func Concurrently(t testing.TB, n int, f func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}
