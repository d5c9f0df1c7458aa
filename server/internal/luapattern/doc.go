// Package luapattern is Lua 5.1's pattern matching (string.find, match,
// gmatch and gsub of lstrlib.c), written so that a caller can stop it: the
// matcher calls a check function every CheckEvery steps and gives up with
// the check's error. Lua patterns backtrack, and a pattern such as
// string.rep('a*', 4)..'b' takes time in the fourth power of the subject's
// length; gridnode's scripts must stop at their time limit even inside
// such a match.
//
// The semantics are those of Lua 5.1 (the Lua of Redis scripts), with the
// limits of later versions where 5.1 had none: at most MaxCaptures
// captures, and a nesting bound (MaxDepth) instead of a C stack overflow.
// Subjects and patterns are byte strings; character classes are ASCII
// (the C locale). Unlike Lua 5.1, a zero byte in a pattern is an ordinary
// character (5.1 ended the pattern there).
package luapattern
