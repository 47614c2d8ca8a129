-- A small but real Lua workload: a sieve, string building, sorting with a comparator,
-- closures and coroutines, and a table-heavy word count.
local function sieve(n)
  local composite, count = {}, 0
  for i = 2, n do
    if not composite[i] then
      count = count + 1
      for j = i * i, n, i do composite[j] = true end
    end
  end
  return count
end
print("primes below 200000:", sieve(200000))

local parts = {}
for i = 1, 2000 do parts[#parts + 1] = string.format("%d:%x", i, i * 2654435761 % 4294967296) end
local text = table.concat(parts, ",")
local digits = select(2, text:gsub("%d", ""))
print("string length", #text, "digits", digits)

local records = {}
local seed = 42
for i = 1, 20000 do
  seed = (seed * 1103515245 + 12345) % 2147483648
  records[i] = { key = seed % 1000, id = i }
end
table.sort(records, function(a, b) if a.key ~= b.key then return a.key < b.key end return a.id < b.id end)
print("sorted first", records[1].key, records[1].id, "last", records[#records].key, records[#records].id)

local function counter()
  local n = 0
  return function() n = n + 1; return n end
end
local next_id = counter()
for _ = 1, 10000 do next_id() end
print("closure count", next_id())

local gen = coroutine.wrap(function()
  local a, b = 0, 1
  for _ = 1, 80 do coroutine.yield(a); a, b = b, a + b end
end)
local last
for _ = 1, 80 do last = gen() end
print("fib(79)", last)

local words = {}
local corpus = "the quick brown fox jumps over the lazy dog and the dog sleeps while the fox runs"
for _ = 1, 500 do
  for word in corpus:gmatch("%a+") do words[word] = (words[word] or 0) + 1 end
end
local keys = {}
for word in pairs(words) do keys[#keys + 1] = word end
table.sort(keys)
local summary = {}
for _, word in ipairs(keys) do summary[#summary + 1] = word .. "=" .. words[word] end
print(table.concat(summary, " "))
print(string.format("math %.6f %d", math.sqrt(2) * math.pi, math.floor(10.5)))
