package server

import (
	"strconv"
	"testing"
)

// A key's number never goes down, and changes on every write, even after
// its shard was emptied (the bound).
func TestKeyVersionsBound(t *testing.T) {
	v := newKeyVersions()
	if got := v.version("k"); got != 0 {
		t.Fatalf("before numbering: %d", got)
	}
	v.written("k") // not enabled: not numbered
	if got := v.version("k"); got != 0 {
		t.Fatalf("written before enable: %d", got)
	}
	v.enable()
	v.written("k")
	first := v.version("k")
	if first == 0 {
		t.Fatal("a write did not change the number")
	}
	for i := range versionShards * versionShardLimit * 2 {
		v.written(strconv.Itoa(i))
		if i%100000 == 0 {
			if now := v.version("k"); now < first {
				t.Fatalf("number went down: %d < %d", now, first)
			}
		}
	}
	w := v.version("k")
	if w < first {
		t.Fatalf("number went down after the bound: %d < %d", w, first)
	}
	v.written("k")
	if v.version("k") == w {
		t.Fatal("a write after the bound did not change the number")
	}
	total := 0
	for i := range v.shards {
		total += len(v.shards[i].m)
	}
	if total > versionShards*versionShardLimit {
		t.Fatalf("%d hashes kept, bound %d", total, versionShards*versionShardLimit)
	}
}
