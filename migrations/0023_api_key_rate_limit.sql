-- Description: per-key rate limits (issue 18). A key may be created with a budget of requests a
-- minute lower than the server's (RATE_LIMIT_PER_MINUTE), so an integration can be held to
-- less than people are. NULL: the server's budget, which follows the setting when it changes.
-- The budgets themselves live in the limiter (this process or Redis), never in PostgreSQL: a
-- write per request would cost more than the request.

-- +goose Up
ALTER TABLE api_keys ADD COLUMN rate_limit_per_minute integer
    CHECK (rate_limit_per_minute > 0);

-- +goose Down
ALTER TABLE api_keys DROP COLUMN rate_limit_per_minute;
