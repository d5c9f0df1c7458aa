// Package partition maps session ids to partitions and partitions to
// members. It is pure: no I/O, no goroutines, no clocks, so every rule is
// tested with tables.
//
//   - [ID] gives a key's partition: xxhash(key) mod P (P = 271 by default).
//   - [Ring] gives the target assignment of each partition (primary and
//     backups) from the member list, with bounded-load consistent hashing
//     (buraksezer/consistent v1).
//   - [Table] is the assignment in force: an epoch and, per partition, the
//     ordered replica list (primary first) plus learners still being filled.
//   - [Plan] turns "table now + members now + which learners are in sync"
//     into the next steps, and [Table.Apply] applies them in a new epoch.
//
// The ring alone is not safe to serve from: when a member dies the ring's
// new owner of a partition is usually not the member that held its backup
// (DESIGN.md, "Measured pitfall"). Plan therefore promotes a surviving
// replica first and moves toward the ring's target only by make-before-break
// steps (REPLICATION.md invariants 3 and 4).
package partition
