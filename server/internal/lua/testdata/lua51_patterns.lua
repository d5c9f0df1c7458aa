-- Cases of Lua's pattern functions. Each line of lua51_patterns.golden is
-- the expression and what Lua 5.1.5 returned for it (regenerate with
-- `lua5.1 lua51_patterns.lua > lua51_patterns.golden`).
local cases = {
  [==[string.find("hello world", "o w")]==],
  [==[string.find("hello world", "o", 6)]==],
  [==[string.find("hello world", "l+")]==],
  [==[string.find("hello", "")]==],
  [==[string.find("hello", "", 10)]==],
  [==[string.find("hello", "", -2)]==],
  [==[string.find("hello", "l", -100)]==],
  [==[string.find("a.b", ".", 1, true)]==],
  [==[string.find("a+b", "+", 1, true)]==],
  [==[string.find("abc", "b", 1, false)]==],
  [==[string.find("key=value", "(%w+)=(%w+)")]==],
  [==[string.find("  x", "^%s*()")]==],
  [==[string.find("abc", "^b")]==],
  [==[string.find("abc", "c$")]==],
  [==[string.find("a$c", "$c")]==],
  [==[string.find("THE (quick) fox", "%((%a+)%)")]==],
  [==[string.find("f(a(b)c)d", "%b()")]==],
  [==[string.find("THE (quick) fox", "%f[%a]%a+", 5)]==],
  [==[string.find("hello", "(l)(l)")]==],
  [==[string.find("hello hello", "(h%a+) %1")]==],
  [==[string.find("x", "[]]")]==],
  [==[string.find("a]b", "[]]")]==],
  [==[string.find("a-b", "[a-]", 2)]==],
  [==[string.find("a-b", "[%-]")]==],
  [==[string.find("abc123", "[^%a]+")]==],
  [==[string.find("ABCdef", "%u+")]==],
  [==[string.find("ABCdef", "%U+")]==],
  [==[string.find("a\0b", "%z")]==],
  [==[string.find("tab\there", "%c")]==],
  [==[string.find("x=1, y=2", "(%w)=(%d)", 3)]==],
  [==[string.find("aaa", "a-b")]==],
  [==[string.find("aaab", "a-b")]==],
  [==[string.find("aaab", "a*")]==],
  [==[string.find("", "a*")]==],
  [==[string.find("abc", "a?b?c?d?")]==],
  [==[string.find("0x1F", "%x+", 3)]==],
  [==[string.find("hello.", "%p")]==],
  [==[string.match("hello world", "%w+")]==],
  [==[string.match("hello world", "(%w+) (%w+)")]==],
  [==[string.match("  trim  ", "^%s*(.-)%s*$")]==],
  [==[string.match("abc", "()b()")]==],
  [==[string.match("2024-01-15", "(%d+)-(%d+)-(%d+)")]==],
  [==[string.match("abc", "d")]==],
  [==[string.match("abc", "b", -1)]==],
  [==[string.match("abc", "b", -2)]==],
  [==[string.match("[[x]]", "%[(%b[])%]")]==],
  [==[string.match("k: v", "^(%w+):%s*(.*)$")]==],
  [==[string.match("aXb", "%f[%u]%u")]==],
  [==[string.match("THE END", "%f[%z]")]==],
  [==[string.match("abc", ".-$")]==],
  [==[string.match("abcabc", "(abc)%1")]==],
  [==[string.gsub("hello world", "o", "0")]==],
  [==[string.gsub("hello world", "o", "0", 1)]==],
  [==[string.gsub("hello", "", "-")]==],
  [==[string.gsub("abc", "%w", "%0%0")]==],
  [==[string.gsub("hello world", "(%w+)", "<%1>")]==],
  [==[string.gsub("hello world", "(%w+) (%w+)", "%2 %1")]==],
  [==[string.gsub("abc", "b", "%%")]==],
  [==[string.gsub("abc", "^a", "x")]==],
  [==[string.gsub("aaa", "^a", "x")]==],
  [==[string.gsub("abc", "b*", "-")]==],
  [==[string.gsub("$name is $age", "%$(%w+)", {name="bob", age=3})]==],
  [==[string.gsub("$name is $x", "%$(%w+)", {name="bob"})]==],
  [==[string.gsub("a b c", "%w", function(c) return c:upper() end)]==],
  [==[string.gsub("a b c", "%w", function(c) if c == "b" then return false end return "." end)]==],
  [==[string.gsub("abc", "", "")]==],
  [==[string.gsub("x = 1", "()=()", "%1")]==],
  [==[string.gsub("abc", "(b)", 7)]==],
  [==[string.gsub("hello", "l+", function(s) return #s end)]==],
  [==[string.gsub("one two", "(o)", "[%1]", 0)]==],
  [==[(function() local t = {} for w in string.gmatch("one two three", "%a+") do t[#t+1] = w end return table.concat(t, ",") end)()]==],
  [==[(function() local t = {} for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do t[#t+1] = k .. v end return table.concat(t, ",") end)()]==],
  [==[(function() local t = {} for w in string.gmatch("abc", "") do t[#t+1] = "[" .. w .. "]" end return table.concat(t, ",") end)()]==],
  [==[(function() local t = {} for w in string.gmatch("^a^a", "^a") do t[#t+1] = w end return table.concat(t, ",") end)()]==],
  [==[(function() local t = {} for p in string.gmatch("abc", "()") do t[#t+1] = p end return table.concat(t, ",") end)()]==],
  [==[(function() local t = {} for w in string.gmatch("a,b,,c", "([^,]*)") do t[#t+1] = "<" .. w .. ">" end return table.concat(t) end)()]==],
  [==[pcall(string.find, "abc", "[a")]==],
  [==[pcall(string.find, "abc", "%")]==],
  [==[pcall(string.find, "abc", "(a")]==],
  [==[pcall(string.find, "abc", "a)")]==],
  [==[pcall(string.find, "abc", "%1")]==],
  [==[pcall(string.find, "abc", "%b")]==],
  [==[pcall(string.find, "abc", "%fa")]==],
  [==[pcall(string.gsub, "abc", "(a)", "%2")]==],
  [==[pcall(string.gsub, "abc", "a", {a=true})]==],
  [==[table.concat({1, 2, "x"}, ", ")]==],
  [==[table.concat({"a", "b", "c"}, "-", 2)]==],
  [==[table.concat({"a", "b", "c"}, "-", 2, 1)]==],
  [==[pcall(table.concat, {"a", {}, "c"})]==],
  [==[1 .. 2]==],
  [==["a" .. 1.5 .. "b"]==],
  [==[(function(...) return "x" .. ... end)("y", "z")]==],
  [==[(function() local function f() return "p", "q" end return "x" .. f() end)()]==],
  [==[(function() local t = setmetatable({}, {__concat = function(a, b) return "meta" end}) return "x" .. t, t .. "y" end)()]==],
  [==[pcall(function() return "x" .. nil end)]==],
  [==[pcall(function() return {} .. "x" end)]==],
}
local function ser(...)
  local n = select("#", ...)
  local out = {}
  for i = 1, n do
    local v = select(i, ...)
    if type(v) == "string" then
      out[#out + 1] = string.format("%q", v)
    elseif type(v) == "number" then
      out[#out + 1] = string.format("%.14g", v)
    elseif type(v) == "boolean" or type(v) == "nil" then
      out[#out + 1] = tostring(v)
    else
      out[#out + 1] = type(v)
    end
  end
  return table.concat(out, " ")
end
for _, c in ipairs(cases) do
  local f = assert(loadstring("return " .. c))
  print(c .. "\t" .. ser(f()))
end
