--[[
  Records DAGs as known to the deployment. A DAG seen for the first time (by any scheduler sharing the
  namespace) is stored paused when its flag says so; a known DAG is left alone, so a restart never
  pauses again and an explicit pause or unpause (which marks the DAG known) wins. A DAG that already
  has runs (history from before DAGs were recorded) counts as known and is never paused here.

  Input:
    KEYS[1] known DAGs set         batuta:<ns>:known-dags
    KEYS[2] paused DAGs set        batuta:<ns>:paused-dags
    ARGV[1] key prefix             batuta:<ns>:
    ARGV[2k], ARGV[2k+1]           a DAG id and '1' (store it paused when new) or '0'

  Output:
    the ids that were new, in argument order
]]
local new = {}
for i = 2, #ARGV, 2 do
  local dagId = ARGV[i]
  if redis.call('SADD', KEYS[1], dagId) == 1 then
    new[#new + 1] = dagId
    if ARGV[i + 1] == '1' and redis.call('EXISTS', ARGV[1] .. 'runs:dag:' .. dagId) == 0 then
      redis.call('SADD', KEYS[2], dagId)
    end
  end
end
return new
