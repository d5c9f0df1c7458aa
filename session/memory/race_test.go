//go:build race

package memory

// raceEnabled: the race detector turns off the compiler's fusion of
// append(s, make([]T, n)...), so alloc (slices.Grow) allocates twice.
const raceEnabled = true
