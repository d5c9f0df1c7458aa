package partition

import "github.com/cespare/xxhash/v2"

// DefaultCount is the default number of partitions (Hazelcast's and Olric's).
const DefaultCount = 271

// ID returns the partition of key among count partitions.
func ID(key string, count int) int {
	return int(xxhash.Sum64String(key) % uint64(count))
}
