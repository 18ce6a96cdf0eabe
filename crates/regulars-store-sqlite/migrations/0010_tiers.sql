-- Member tiers.
-- member_tiers holds each evaluated member's tier now: the term (since, until: days, until NULL
-- when it does not expire), the order that made the upgrade, the qualifying value and what is
-- missing for the next tier on evaluated_on, and due_on, the first day the evaluation changes
-- without a new fact (a renewal check, or an order leaving the rolling window), by which the
-- daily pass finds the members to evaluate again.
-- tier_changes is the append-only log of tier changes, one per member, day, kind and tier.

CREATE TABLE member_tiers (
    member_id TEXT PRIMARY KEY REFERENCES members (member_id),
    tier TEXT NOT NULL,
    since TEXT,
    until TEXT,
    order_id TEXT,
    value BIGINT NOT NULL,
    next_tier TEXT,
    to_next BIGINT,
    due_on TEXT,
    evaluated_on TEXT NOT NULL
);

CREATE INDEX member_tiers_by_due ON member_tiers (due_on) WHERE due_on IS NOT NULL;
CREATE INDEX member_tiers_by_tier ON member_tiers (tier);
CREATE INDEX member_tiers_by_to_next ON member_tiers (to_next) WHERE to_next IS NOT NULL;

CREATE TABLE tier_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id TEXT NOT NULL REFERENCES members (member_id),
    day TEXT NOT NULL,
    from_tier TEXT NOT NULL,
    to_tier TEXT NOT NULL,
    kind TEXT NOT NULL,
    value BIGINT NOT NULL,
    order_id TEXT,
    reason TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    UNIQUE (member_id, day, kind, to_tier)
);

CREATE INDEX tier_changes_by_day ON tier_changes (day);
