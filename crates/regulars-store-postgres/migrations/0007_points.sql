-- The points ledger, append-only: each operation once under its idempotency key, and its
-- entries. A credit (points > 0) is a lot with the day it becomes spendable and the first day it
-- no longer counts; a debit (points < 0) names the lot it draws on. Days are the brand's civil
-- dates (YYYY-MM-DD).

CREATE TABLE points_operations (
    key TEXT PRIMARY KEY NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (member_id),
    kind TEXT NOT NULL,
    points BIGINT NOT NULL,
    at BIGINT NOT NULL
);

CREATE TABLE points_entries (
    seq BIGSERIAL PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES members (member_id),
    key TEXT NOT NULL REFERENCES points_operations (key),
    kind TEXT NOT NULL,
    points BIGINT NOT NULL,
    lot BIGINT REFERENCES points_entries (seq),
    available_on TEXT,
    expires_on TEXT,
    reason TEXT NOT NULL,
    cause TEXT NOT NULL,
    day TEXT NOT NULL,
    at BIGINT NOT NULL,
    CHECK ((points > 0 AND lot IS NULL AND available_on IS NOT NULL) OR (points < 0 AND lot IS NOT NULL))
);

CREATE INDEX points_entries_by_member ON points_entries (member_id, seq);
CREATE INDEX points_entries_by_lot ON points_entries (lot);
CREATE INDEX points_entries_by_key ON points_entries (key);
