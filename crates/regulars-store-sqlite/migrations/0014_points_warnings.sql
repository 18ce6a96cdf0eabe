-- Warnings that a member's points are about to expire, for journeys ("your 120 points expire in
-- 7 days"): one per member, expiry day and stage (the warn_days bound it was the nearest to),
-- recorded once by the daily pass however often it runs.

CREATE TABLE points_warnings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id TEXT NOT NULL REFERENCES members (member_id),
    expires_on TEXT NOT NULL,
    days_before INTEGER NOT NULL CHECK (days_before > 0),
    points BIGINT NOT NULL CHECK (points > 0),
    day TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    UNIQUE (member_id, expires_on, days_before)
);

CREATE INDEX points_warnings_by_member ON points_warnings (member_id, seq);
