package register_test

import (
	"math"
	"testing"

	"github.com/anishathalye/porcupine"

	"github.com/sessiongrid/sessiongrid/internal/register"
)

// The checker must be able to fail: a read of a value never written, or a
// stale read after a completed write, is rejected.
func TestModelRejectsStaleRead(t *testing.T) {
	w := func(v string) register.Input { return register.Input{Op: register.Write, Key: "a", Value: v} }
	ops := []porcupine.Operation{
		{ClientId: 0, Input: w("1"), Output: register.Output{}, Call: 0, Return: 10},
		{ClientId: 0, Input: w("2"), Output: register.Output{}, Call: 20, Return: 30},
		{ClientId: 1, Input: register.Input{Key: "a"}, Output: register.Output{Found: true, Value: "1"}, Call: 40, Return: 50},
	}
	if porcupine.CheckOperations(register.Model, ops) {
		t.Fatal("a stale read was accepted")
	}
	// An unknown write may take effect late.
	ops[1].Output, ops[1].Return = register.Output{Unknown: true}, math.MaxInt64
	if !porcupine.CheckOperations(register.Model, ops) {
		t.Fatal("an unknown write was not allowed to be missing")
	}
}

// A delete makes the key absent: a later read that finds the old value is
// rejected, one that finds nothing is accepted.
func TestModelDelete(t *testing.T) {
	ops := []porcupine.Operation{
		{ClientId: 0, Input: register.Input{Op: register.Write, Key: "a", Value: "1"}, Call: 0, Return: 10, Output: register.Output{}},
		{ClientId: 0, Input: register.Input{Op: register.Delete, Key: "a"}, Call: 20, Return: 30, Output: register.Output{}},
		{ClientId: 1, Input: register.Input{Key: "a"}, Output: register.Output{Found: true, Value: "1"}, Call: 40, Return: 50},
	}
	if porcupine.CheckOperations(register.Model, ops) {
		t.Fatal("a read after a delete found the deleted value")
	}
	ops[2].Output = register.Output{}
	if !porcupine.CheckOperations(register.Model, ops) {
		t.Fatal("a read after a delete that found nothing was rejected")
	}
}
