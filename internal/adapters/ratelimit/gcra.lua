-- One request against the token bucket at KEYS[1], as Rate.admit decides
-- it in Go. The bucket is the time, in microseconds of the server's clock,
-- at which it is full again; it expires then, as a full bucket needs no
-- state. The server's clock serves every replica, whatever their own say.
--
-- ARGV[1]: how long the bucket takes to regain one request (µs)
-- ARGV[2]: how long it takes to refill from empty (µs)
-- Returns {1, 0} when the request is allowed, {0, µs until one would be}
-- when it is not.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local full_at = tonumber(redis.call('GET', KEYS[1]) or now)
local next = math.max(full_at, now) + interval
local debt = next - now
if debt > capacity then
	return {0, debt - capacity}
end
-- A number argument is sent as %.17g: exact for these integers.
redis.call('SET', KEYS[1], next, 'PX', math.ceil(debt / 1000))
return {1, 0}
