--[[
  Takes a named lease, or renews it for its owner. Time is the caller's (an injected clock), never
  the server's: the expiry is stored in the value and compared with the caller's now.

  Input:
    KEYS[1] lease hash            batuta:<ns>:lease:<name>   fields owner, renewedMs, expiresMs
    ARGV[1] owner
    ARGV[2] now (ms)
    ARGV[3] new expiry (ms): now + ttl

  Output:
    1 taken or renewed, 0 another owner holds it until after now
]]
local rcall = redis.call
local current = rcall('HMGET', KEYS[1], 'owner', 'expiresMs')
local owner, expiresMs = current[1], current[2]
if owner and owner ~= ARGV[1] and tonumber(ARGV[2]) < tonumber(expiresMs) then
  return 0
end
rcall('HSET', KEYS[1], 'owner', ARGV[1], 'renewedMs', ARGV[2], 'expiresMs', ARGV[3])
return 1
