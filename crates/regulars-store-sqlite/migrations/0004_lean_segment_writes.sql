-- Fewer B-tree writes per transition, for ingest throughput:
-- * The log's `seq` is a plain rowid alias instead of AUTOINCREMENT, which also wrote
--   sqlite_sequence on every insert. Rows are only ever appended and old rows are the only ones
--   deleted, so a new row still takes a seq above every seq ever handed out.
-- * The (model, day) index goes: the log is read in seq order, filtered as it goes, and only a
--   filter on one member has an index to use.
-- * Memberships are keyed by member in the table itself (WITHOUT ROWID) instead of a rowid
--   table beside an index on member_id.

CREATE TABLE segment_transitions_lean (
    seq INTEGER PRIMARY KEY,
    member_id TEXT NOT NULL,
    model TEXT NOT NULL,
    from_segment TEXT NOT NULL,
    to_segment TEXT NOT NULL,
    day TEXT NOT NULL,
    at BIGINT NOT NULL,
    cause TEXT NOT NULL
);
INSERT INTO segment_transitions_lean
    SELECT seq, member_id, model, from_segment, to_segment, day, at, cause
    FROM segment_transitions;
DROP TABLE segment_transitions;
ALTER TABLE segment_transitions_lean RENAME TO segment_transitions;
CREATE INDEX segment_transitions_by_member ON segment_transitions (member_id);

CREATE TABLE segment_memberships_lean (
    member_id TEXT PRIMARY KEY NOT NULL,
    rfm TEXT NOT NULL,
    rfm8 TEXT NOT NULL,
    nesl TEXT NOT NULL,
    rfim TEXT NOT NULL,
    lifecycle TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO segment_memberships_lean
    SELECT member_id, rfm, rfm8, nesl, rfim, lifecycle FROM segment_memberships;
DROP TABLE segment_memberships;
ALTER TABLE segment_memberships_lean RENAME TO segment_memberships;
