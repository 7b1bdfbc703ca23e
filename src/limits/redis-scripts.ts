/**
 * The admission and settlement as Lua scripts: Redis runs a script alone, so checking every limit
 * and charging all of them is one atomic step for all replicas. The arithmetic is bucket-math.ts's
 * (see there for the model); the limit-store tests hold the two to the same results.
 * Lua numbers are doubles; replies are truncated to integers, so values are rounded explicitly.
 */

const BUCKET_FUNCTIONS = `
local function level_of(key, capacity, now, window)
  local state = redis.call('HMGET', key, 'level', 'ts')
  local level = tonumber(state[1])
  if level == nil then return capacity end
  local elapsed = math.max(0, now - tonumber(state[2]))
  return math.min(capacity, level + elapsed * capacity / window)
end

local function ms_until(level, target, capacity, window)
  if level >= target then return 0 end
  return math.max(1, math.ceil((target - level) * window / capacity - 1e-6))
end

-- A full bucket needs no state: the key expires when the refill would have filled it.
local function save(key, level, capacity, now, window)
  redis.call('HSET', key, 'level', string.format('%.17g', level), 'ts', now)
  redis.call('PEXPIRE', key, ms_until(level, capacity, capacity, window) + 1000)
end

local function remaining(level)
  if level == nil then return -1 end
  return math.max(0, math.floor(level))
end

local function reset(level, capacity, window)
  if level == nil then return -1 end
  return ms_until(level, capacity, capacity, window)
end
`;

/**
 * KEYS: requests bucket, tokens bucket, leases (sorted set, score = expiry), budget counter.
 * ARGV: now, rpm, tpm, tokens, maxConcurrent, leaseId, leaseTtlMs, budget, budgetSeed,
 *       budgetExpiresAtMs, windowMs. A limit of 0 means none; a seed of -1 means none.
 * Reply: {status, requestsRemaining, requestsResetMs, tokensRemaining, tokensResetMs, retryAfterMs, budgetUsed}
 * with status 1 admitted, 0 rate limited, 2 concurrency limited, 3 budget exhausted, 4 budget unknown;
 * -1 for a dimension without a limit.
 */
export const ADMIT_SCRIPT = `${BUCKET_FUNCTIONS}
local now = tonumber(ARGV[1])
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local tokens = tonumber(ARGV[4])
local max_concurrent = tonumber(ARGV[5])
local lease_id = ARGV[6]
local lease_ttl = tonumber(ARGV[7])
local budget = tonumber(ARGV[8])
local budget_seed = tonumber(ARGV[9])
local budget_expires_at = tonumber(ARGV[10])
local window = tonumber(ARGV[11])

local used = 0
if budget > 0 then
  local current = redis.call('GET', KEYS[4])
  if current == false then
    if budget_seed < 0 then return {4, -1, -1, -1, -1, 0, 0} end
    redis.call('SET', KEYS[4], ARGV[9])
    redis.call('PEXPIREAT', KEYS[4], budget_expires_at)
    current = budget_seed
  end
  used = tonumber(current)
end

local request_level = nil
local token_level = nil
if rpm > 0 then request_level = level_of(KEYS[1], rpm, now, window) end
if tpm > 0 then token_level = level_of(KEYS[2], tpm, now, window) end

local function reply(status, requests_after, tokens_after, retry_after)
  return {status, remaining(requests_after), reset(requests_after, rpm, window),
          remaining(tokens_after), reset(tokens_after, tpm, window), retry_after, used}
end

-- The whole reservation must fit in what is left: "some budget left" would let a request run past it.
if budget > 0 and used + tokens > budget then return reply(3, request_level, token_level, 0) end

local retry_after = 0
if request_level ~= nil then retry_after = math.max(retry_after, ms_until(request_level, 1, rpm, window)) end
if token_level ~= nil then retry_after = math.max(retry_after, ms_until(token_level, tokens, tpm, window)) end
if retry_after > 0 then return reply(0, request_level, token_level, retry_after) end

if max_concurrent > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= max_concurrent then return reply(2, request_level, token_level, 0) end
end

if request_level ~= nil then
  request_level = request_level - 1
  save(KEYS[1], request_level, rpm, now, window)
end
if token_level ~= nil then
  token_level = token_level - tokens
  save(KEYS[2], token_level, tpm, now, window)
end
if max_concurrent > 0 then
  redis.call('ZADD', KEYS[3], now + lease_ttl, lease_id)
  redis.call('PEXPIRE', KEYS[3], lease_ttl)
end
if budget > 0 then
  redis.call('INCRBY', KEYS[4], ARGV[4])
  used = used + tokens
end
return reply(1, request_level, token_level, 0)
`;

/**
 * KEYS: tokens bucket, leases, budget counter.
 * ARGV: now, tpm (0 = none), reservedMinusActual, leaseId ('' = none), windowMs,
 *       budgetCharge (actual minus reserved, as an integer string; '0' = nothing to charge).
 * Integers reach INCRBY as the caller's strings: Lua would print large numbers in exponent form.
 */
export const SETTLE_SCRIPT = `${BUCKET_FUNCTIONS}
local now = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local delta = tonumber(ARGV[3])
local lease_id = ARGV[4]
local window = tonumber(ARGV[5])
local budget_charge = ARGV[6]

if tpm > 0 and delta ~= 0 then
  local level = math.min(tpm, level_of(KEYS[1], tpm, now, window) + delta)
  save(KEYS[1], level, tpm, now, window)
end
if lease_id ~= '' then redis.call('ZREM', KEYS[2], lease_id) end
-- A counter that expired (the period ended) is left alone: the next period starts from its own seed.
if budget_charge ~= '0' and redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('INCRBY', KEYS[3], budget_charge)
end
return 1
`;

/** KEYS: leases. ARGV: leaseId, expiresAtMs, ttlMs. Only a slot still held is renewed. */
export const RENEW_LEASE_SCRIPT = `
if redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[2], ARGV[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`;
