--[[
  Run-index upkeep, shared by the scripts that create runs and the one that changes a run's state
  or logical date, so every index stays in step with the run records.
]]
--- @include "includes/runIndexKeys"

-- Lists a new run in every index under one score.
local function indexNewRun(prefix, allRunsKey, runId, score, dagId, state)
  redis.call('ZADD', allRunsKey, score, runId)
  redis.call('ZADD', runsByStateKey(prefix, state), score, runId)
  redis.call('ZADD', runsByDagKey(prefix, dagId), score, runId)
  redis.call('ZADD', runsByDagAndStateKey(prefix, state, dagId), score, runId)
end

-- Moves a run between the state indexes (newState nil: it leaves them) and, when newScore is given,
-- re-scores it in every index; without newScore the run keeps the score it has.
local function reindexRun(prefix, allRunsKey, runId, dagId, oldState, newState, newScore)
  local score = newScore
  if not score then score = redis.call('ZSCORE', allRunsKey, runId) or '0' end

  if oldState and oldState ~= newState then
    redis.call('ZREM', runsByStateKey(prefix, oldState), runId)
    redis.call('ZREM', runsByDagAndStateKey(prefix, oldState, dagId), runId)
  end
  if newState and (newState ~= oldState or newScore) then
    redis.call('ZADD', runsByStateKey(prefix, newState), score, runId)
    redis.call('ZADD', runsByDagAndStateKey(prefix, newState, dagId), score, runId)
  end
  if newScore then
    redis.call('ZADD', allRunsKey, score, runId)
    redis.call('ZADD', runsByDagKey(prefix, dagId), score, runId)
  end
end
