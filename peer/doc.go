// Package peer runs an embedded grid member inside a bot process: it joins
// the grid, owns its share of the partitions (or none, as a lite member) and
// serves them in-process, and hands them over when it closes. Bots that only
// talk to gridnodes over the network use package client instead, which links
// none of the grid.
package peer
