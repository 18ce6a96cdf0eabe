-- Earning caps: an operation that counts toward a member's cap names the cap's period
-- (`month:2026-03`), so the period's sum is one indexed read inside the writing transaction, and
-- a credit records the points its cap held back (its `points` are what it granted).

ALTER TABLE points_operations ADD COLUMN cap_period TEXT;
ALTER TABLE points_operations ADD COLUMN capped BIGINT NOT NULL DEFAULT 0;

CREATE INDEX points_operations_by_cap ON points_operations (member_id, cap_period)
    WHERE cap_period IS NOT NULL;
