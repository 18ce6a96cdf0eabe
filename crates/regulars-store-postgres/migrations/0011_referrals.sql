-- Referrals.
-- referral_codes gives each member who asked for one a unique code.
-- referrals holds one referral per referee: who referred them with which code, the device it
-- came from (a device makes one referral at most), where it stands (pending, qualified,
-- rewarded, rejected) with a note (why it was rejected, when it pays), the referee's first
-- valid order once there is one, the brand day it was made and the day it was settled.

CREATE TABLE referral_codes (
    member_id TEXT PRIMARY KEY REFERENCES members (member_id),
    code TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE referrals (
    referee_id TEXT PRIMARY KEY REFERENCES members (member_id),
    referrer_id TEXT NOT NULL REFERENCES members (member_id),
    code TEXT NOT NULL,
    device_id TEXT,
    status TEXT NOT NULL,
    note TEXT,
    order_id TEXT,
    referred_on TEXT NOT NULL,
    settled_on TEXT,
    at BIGINT NOT NULL
);

CREATE UNIQUE INDEX referrals_by_device ON referrals (device_id) WHERE device_id IS NOT NULL;
CREATE INDEX referrals_by_referrer ON referrals (referrer_id);
CREATE INDEX referrals_open ON referrals (referee_id) WHERE status IN ('pending', 'qualified');
