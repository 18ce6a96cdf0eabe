-- Saved audiences (custom segments, auto tags, static lists): the definitions, who is in each
-- now, and the log of members entering and leaving; manual tags and the log of every tag change
-- (manual or from an auto tag). Days are the brand's civil dates (YYYY-MM-DD).

CREATE TABLE audiences (
    name TEXT PRIMARY KEY NOT NULL,
    rule TEXT,
    tag TEXT,
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE audience_members (
    audience TEXT NOT NULL REFERENCES audiences (name) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    PRIMARY KEY (audience, member_id)
);

CREATE TABLE audience_moves (
    seq BIGSERIAL PRIMARY KEY,
    audience TEXT NOT NULL,
    member_id TEXT NOT NULL,
    entered BOOLEAN NOT NULL,
    day TEXT NOT NULL,
    at BIGINT NOT NULL,
    cause TEXT NOT NULL
);

CREATE INDEX audience_moves_by_audience ON audience_moves (audience, seq);
CREATE INDEX audience_moves_by_member ON audience_moves (member_id, seq);

CREATE TABLE member_tags (
    member_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (member_id, tag)
);

CREATE TABLE tag_changes (
    seq BIGSERIAL PRIMARY KEY,
    member_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    added BOOLEAN NOT NULL,
    source TEXT NOT NULL,
    day TEXT NOT NULL,
    at BIGINT NOT NULL,
    cause TEXT NOT NULL
);

CREATE INDEX tag_changes_by_tag ON tag_changes (tag, seq);
CREATE INDEX tag_changes_by_member ON tag_changes (member_id, seq);
