-- Earning points from orders.
-- A reversal (a return or a cancellation) may take back points already spent: what it cannot
-- draw is owed, and the member's next credits pay it off. points_debts is that account,
-- append-only: points > 0 owed by the operation under key, points < 0 paid off by it. A member
-- owes the sum of their rows.
-- points_order_queue holds every order recorded, moved to another status or returned against,
-- written in the same transaction as the fact, until its points have been earned or taken back.
-- Lots are found by the day they expire for the daily expiry.

CREATE TABLE points_debts (
    seq BIGSERIAL PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES members (member_id),
    key TEXT NOT NULL REFERENCES points_operations (key),
    points BIGINT NOT NULL CHECK (points <> 0),
    day TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE INDEX points_debts_by_member ON points_debts (member_id);
CREATE INDEX points_debts_by_key ON points_debts (key);

CREATE TABLE points_order_queue (
    seq BIGSERIAL PRIMARY KEY,
    order_id TEXT NOT NULL
);

CREATE INDEX points_entries_by_expiry ON points_entries (expires_on) WHERE points > 0;
