-- Segment memberships: every change (the transition log), every member's segments now, and a
-- daily copy of those for period-over-period reports. Segments are canonical names
-- ('champions', 'S2', ...); days are the brand's civil dates (YYYY-MM-DD).

CREATE TABLE segment_transitions (
    seq BIGSERIAL PRIMARY KEY,
    member_id TEXT NOT NULL,
    model TEXT NOT NULL,
    from_segment TEXT NOT NULL,
    to_segment TEXT NOT NULL,
    day TEXT NOT NULL,
    at BIGINT NOT NULL,
    cause TEXT NOT NULL
);

CREATE INDEX segment_transitions_by_model_day ON segment_transitions (model, day);
CREATE INDEX segment_transitions_by_member ON segment_transitions (member_id);

CREATE TABLE segment_memberships (
    member_id TEXT PRIMARY KEY NOT NULL,
    rfm TEXT NOT NULL,
    rfm8 TEXT NOT NULL,
    nesl TEXT NOT NULL,
    rfim TEXT NOT NULL,
    lifecycle TEXT NOT NULL
);

CREATE TABLE segment_snapshots (
    day TEXT NOT NULL,
    member_id TEXT NOT NULL,
    rfm TEXT NOT NULL,
    rfm8 TEXT NOT NULL,
    nesl TEXT NOT NULL,
    rfim TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    PRIMARY KEY (day, member_id)
);
