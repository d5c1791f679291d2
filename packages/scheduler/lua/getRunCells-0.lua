--[[
  Reads the cells (state and try of every task instance) of several runs, each as one packed text, so
  a grid of thousands of cells crosses the connection as one string per run instead of two per cell.

  A run's packed text is kept in <prefix>run:<runId>:grid, built here from its cells hash when absent,
  and deleted by every instance write (applyTransition-7.lua) and with the run (pruneRuns-1.lua): a
  read never returns a text older than the cells hash, and an ended run's text is built once, not per
  read.

  Input:
    ARGV[1]    key prefix     batuta:<ns>:
    ARGV[2...] run ids

  Output:
    one text per run, in order: the number of cells, then the cells hash's fields and values (field
    <taskId>#<mapIndex>, value '<state>,<tryNumber>'), all joined by newlines (a field holding a
    newline shows as more parts than the count says); '' for a run without a cells hash (no
    instances yet, or instances written before cells existed).
]]
local rcall = redis.call
local prefix = ARGV[1]
local result = {}
for i = 2, #ARGV do
  local runKey = prefix .. 'run:' .. ARGV[i]
  local packed = rcall('GET', runKey .. ':grid')
  if not packed then
    local cells = rcall('HGETALL', runKey .. ':cells')
    if #cells == 0 then
      packed = ''
    else
      packed = (#cells / 2) .. '\n' .. table.concat(cells, '\n')
      rcall('SET', runKey .. ':grid', packed)
    end
  end
  result[#result + 1] = packed
end
return result
