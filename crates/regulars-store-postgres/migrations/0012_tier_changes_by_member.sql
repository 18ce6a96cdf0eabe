-- A member's tier changes, newest first, without reading the whole log (the wallet and
-- GET /api/v1/members/{id}/tier read them on every call).

CREATE INDEX tier_changes_by_member ON tier_changes (member_id, seq);
