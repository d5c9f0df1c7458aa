package partition

import "errors"

// partition.ErrStaleTable reports a proposal of a table that does not follow the table
// in force: another change committed first. The proposer reads the table
// again and plans anew. Every table log (the Raft log, the in-memory one)
// reports it, so callers test one sentinel.
var ErrStaleTable = errors.New("partition: table changed meanwhile")
