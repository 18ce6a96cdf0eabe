-- The facts: stores, members (with their change history), orders with lines and status
-- history, returns, interactions and behaviour events.
-- Instants are Unix microseconds, money is minor units beside a currency code.

CREATE TABLE stores (
    store_id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('online', 'offline')),
    time_zone TEXT NOT NULL,
    created_from_order BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE members (
    member_id TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    phone TEXT,
    email TEXT,
    line_user_id TEXT,
    birthday TEXT,
    gender TEXT,
    region TEXT,
    joined_at BIGINT,
    home_store_id TEXT,
    referrer_id TEXT,
    consent_line BOOLEAN,
    consent_line_at BIGINT,
    consent_line_source TEXT,
    consent_sms BOOLEAN,
    consent_sms_at BIGINT,
    consent_sms_source TEXT,
    consent_email BOOLEAN,
    consent_email_at BIGINT,
    consent_email_source TEXT,
    consent_push BOOLEAN,
    consent_push_at BIGINT,
    consent_push_source TEXT,
    created_from TEXT,
    revision BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX members_phone ON members (phone);
CREATE INDEX members_email ON members (email);

CREATE TABLE member_changes (
    member_id TEXT NOT NULL REFERENCES members (member_id),
    revision BIGINT NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX member_changes_member ON member_changes (member_id, revision);

CREATE TABLE orders (
    order_id TEXT PRIMARY KEY NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (member_id),
    store_id TEXT REFERENCES stores (store_id),
    placed_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('paid', 'completed', 'cancelled')),
    status_at BIGINT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    discount BIGINT NOT NULL CHECK (discount >= 0),
    shipping BIGINT NOT NULL CHECK (shipping >= 0),
    coupon_codes TEXT NOT NULL DEFAULT '',
    recorded_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX orders_member ON orders (member_id, placed_at);

CREATE TABLE order_lines (
    order_id TEXT NOT NULL REFERENCES orders (order_id),
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL,
    name TEXT,
    category TEXT,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price BIGINT NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (order_id, line_no)
) WITHOUT ROWID;

CREATE TABLE order_status_changes (
    order_id TEXT NOT NULL REFERENCES orders (order_id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX order_status_changes_order ON order_status_changes (order_id);

CREATE TABLE returns (
    return_id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (order_id),
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    completed_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX returns_order ON returns (order_id);

CREATE TABLE return_lines (
    return_id TEXT NOT NULL REFERENCES returns (return_id),
    position INTEGER NOT NULL,
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (return_id, position)
);

CREATE TABLE interactions (
    interaction_id TEXT PRIMARY KEY NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (member_id),
    at BIGINT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX interactions_member ON interactions (member_id, at);

CREATE TABLE behaviour_events (
    event_id TEXT PRIMARY KEY NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (member_id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    sku TEXT,
    category TEXT,
    query TEXT,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX behaviour_events_member ON behaviour_events (member_id, at);
