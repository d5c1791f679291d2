--[[
  Releases a named lease if the caller holds it (whether or not it has expired).

  Input:
    KEYS[1] lease hash            batuta:<ns>:lease:<name>
    ARGV[1] owner

  Output:
    1 released, 0 the caller does not hold it
]]
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
