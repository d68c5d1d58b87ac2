-- orders is the head of each order: the columns that queries filter on,
-- and the current version. The order itself lives in order_versions, one
-- immutable row per version, so no past state is ever overwritten.
CREATE TABLE orders (
	id                uuid PRIMARY KEY,
	version           integer NOT NULL CHECK (version > 0),
	type              text NOT NULL,
	phase             text NOT NULL,
	county            text NOT NULL,
	case_number       text NOT NULL,
	-- case_key is the case number reduced to letters and digits, so
	-- "23-FL-01234" and "23FL01234" meet.
	case_key          text NOT NULL,
	issued_on         date NOT NULL,
	expires_at        date,
	terminated_on     date,
	previous_order_id uuid,
	created_at        timestamptz NOT NULL,
	updated_at        timestamptz NOT NULL
);
CREATE INDEX orders_case ON orders (county, case_key);
CREATE INDEX orders_previous ON orders (previous_order_id) WHERE previous_order_id IS NOT NULL;

CREATE TABLE order_versions (
	order_id uuid NOT NULL REFERENCES orders (id),
	version  integer NOT NULL,
	action   text NOT NULL,
	at       timestamptz NOT NULL,
	by_user  text NOT NULL,
	reason   text NOT NULL DEFAULT '',
	doc      jsonb NOT NULL,
	PRIMARY KEY (order_id, version)
);

-- outbox lists changed orders in commit order; the index follows it.
-- Writers take an advisory lock before appending (see store/outbox.go), so
-- a sequence number is never visible before a smaller one.
CREATE TABLE outbox (
	seq      bigserial PRIMARY KEY,
	order_id uuid NOT NULL,
	at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
	id         bigserial PRIMARY KEY,
	name       text NOT NULL,
	role       text NOT NULL,
	county     text NOT NULL DEFAULT '',
	token_hash bytea NOT NULL UNIQUE,
	created_at timestamptz NOT NULL,
	disabled_at timestamptz
);

CREATE TABLE audit (
	id        bigserial PRIMARY KEY,
	at        timestamptz NOT NULL,
	user_id   bigint,
	user_name text NOT NULL DEFAULT '',
	action    text NOT NULL,
	order_id  uuid,
	detail    jsonb
);
CREATE INDEX audit_order ON audit (order_id, at) WHERE order_id IS NOT NULL;
