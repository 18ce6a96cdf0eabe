-- Coupons (domain-spec §4.4).
-- coupon_templates: what a kind of coupon offers, where it applies, how long an issued one is
-- valid and its limits; the offer's numbers sit in the columns its kind uses. Lists (categories,
-- skus, stores, combines_with) are one item a line.
-- coupons: each issued coupon once under its issue_key, with its days, its store credit left and
-- its status (active, redeemed, voided; expiry is read from valid_until).
-- coupon_pool_codes: imported codes, each issued at most once (issued_key names the coupon).
-- coupon_redemptions: each use once under its key, and a coupon at most once per order.

CREATE TABLE coupon_templates (
    name TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    currency TEXT NOT NULL,
    offer TEXT NOT NULL,
    amount BIGINT,
    percent BIGINT,
    cap BIGINT,
    threshold BIGINT,
    quantity BIGINT,
    get_quantity BIGINT,
    each_threshold BOOLEAN NOT NULL,
    sku TEXT,
    categories TEXT NOT NULL,
    skus TEXT NOT NULL,
    stores TEXT NOT NULL,
    channel TEXT,
    min_spend BIGINT,
    valid_from TEXT,
    valid_until TEXT,
    valid_days BIGINT,
    per_member BIGINT,
    total_limit BIGINT,
    combines_with TEXT NOT NULL,
    points_cost BIGINT,
    codes TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE coupons (
    code TEXT PRIMARY KEY NOT NULL,
    template TEXT NOT NULL REFERENCES coupon_templates (name),
    member_id TEXT NOT NULL REFERENCES members (member_id),
    issue_key TEXT NOT NULL UNIQUE,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    credit BIGINT NOT NULL CHECK (credit >= 0),
    status TEXT NOT NULL,
    cause TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    points_key TEXT REFERENCES points_operations (key),
    void_reason TEXT,
    voided_at BIGINT
);

CREATE INDEX coupons_by_member ON coupons (member_id, template);
CREATE INDEX coupons_by_template ON coupons (template, status);

CREATE TABLE coupon_pool_codes (
    code TEXT PRIMARY KEY NOT NULL,
    template TEXT NOT NULL REFERENCES coupon_templates (name),
    seq BIGINT NOT NULL,
    issued_key TEXT
);

CREATE INDEX coupon_pool_codes_free ON coupon_pool_codes (template, seq) WHERE issued_key IS NULL;

CREATE TABLE coupon_redemptions (
    seq BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL REFERENCES coupons (code),
    order_id TEXT NOT NULL,
    discount BIGINT NOT NULL CHECK (discount >= 0),
    day TEXT NOT NULL,
    at BIGINT NOT NULL,
    UNIQUE (code, order_id)
);
