// Package lua is the interpreter of gridnode's scripts: Lua 5.1
// (gopher-lua) in a sandbox, with Redis's redis library and Redis's
// conversions between replies and Lua values.
//
// It knows nothing of the server: a script's redis.call and redis.pcall go
// to the Caller of its Run, which returns the command's reply in RESP2,
// and the script's result is written to a ReplyWriter. Compile compiles a
// script once (a Script may run on any VM); a VM runs one script at a
// time, and callers keep idle VMs in a pool.
//
// # Bounds
//
// A run stops when its context ends: gopher-lua checks the context before
// every instruction, and the pattern functions (string.find, match, gmatch,
// gsub, on the matcher of package luapattern) and table.concat check it as
// they work, so a backtracking match stops within milliseconds. Every
// library function and operator that builds a string in one call
// (string.rep, string.format, string.gsub, table.concat and the ..
// operator, which compiles to a bounded call) refuses results over the
// run's MaxMemory; the Lua call depth, the value stack, the source size
// and the syntax depth are bounded. The heap a script grows in many calls
// is the caller's to watch.
//
// # Sandbox
//
// Scripts get the base library without dofile, loadfile, load, require,
// module, print, getfenv and setfenv; table, string and math; and the
// redis table. There is no os, io, debug or package library. Each run gets
// its own global table, and the libraries are read-only: a script cannot
// change what the next one sees.
package lua
