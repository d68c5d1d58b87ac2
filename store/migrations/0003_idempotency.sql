-- idempotency_keys remembers, per user and for 24 hours, the answer to each
-- POST sent with an Idempotency-Key header, so that a retried request gets
-- the first answer instead of entering the same order twice. Expired keys
-- are pruned lazily when a new key is claimed (store/idempotency.go).
CREATE TABLE idempotency_keys (
	user_id     bigint NOT NULL REFERENCES users (id),
	key         text NOT NULL,
	-- fingerprint is a hash of method, path and body: the same key sent
	-- with another request is refused, not answered with the first answer.
	fingerprint bytea NOT NULL,
	-- claim names the request answering; it changes only when a claim
	-- abandoned by a crashed process is taken over.
	claim       uuid NOT NULL,
	created_at  timestamptz NOT NULL,
	claimed_at  timestamptz NOT NULL,
	-- status is NULL while the first request is still being answered.
	status      integer,
	header      jsonb,
	body        bytea,
	PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
