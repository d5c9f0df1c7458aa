package cluster

import "errors"

// Errors of the cluster package.
var (
	// ErrJoinFailed reports that a node could not join any seed before its
	// deadline. Such a node must not serve.
	ErrJoinFailed = errors.New("cluster: join failed")
	// ErrNotJoined reports a node whose Join has not succeeded (yet).
	ErrNotJoined = errors.New("cluster: not joined")
	// ErrIncompatible reports a member whose metadata is incompatible with
	// ours (partition count, protocol version, not a sessiongrid node).
	ErrIncompatible = errors.New("cluster: incompatible member")
)
