-- Identities: a login name and password for people in a browser, the
-- court or agency a user works for, several revocable and expiring tokens
-- per user, browser sessions, and failed logins counted here rather than
-- in a node's memory, so a lockout survives restarts and holds on every
-- node.
ALTER TABLE users
	ADD COLUMN username      text UNIQUE, -- lower case; NULL for token-only users
	ADD COLUMN password_hash text NOT NULL DEFAULT '', -- argon2id, PHC string
	ADD COLUMN organisation  text NOT NULL DEFAULT '';

CREATE TABLE tokens (
	id         bigserial PRIMARY KEY,
	user_id    bigint NOT NULL REFERENCES users (id),
	hash       bytea NOT NULL UNIQUE, -- SHA-256 of the token
	label      text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	revoked_at timestamptz
);
CREATE INDEX tokens_user ON tokens (user_id);

-- Tokens issued before tokens expired keep working for the default
-- lifetime from now, so nobody is locked out by the upgrade; a disabled
-- user's token comes across revoked.
INSERT INTO tokens (user_id, hash, label, created_at, expires_at, revoked_at)
SELECT id, token_hash, 'issued before 0006', created_at, now() + interval '90 days', disabled_at
FROM users;

ALTER TABLE users DROP COLUMN token_hash;

CREATE TABLE sessions (
	id           bytea PRIMARY KEY, -- SHA-256 of the cookie's value
	user_id      bigint NOT NULL REFERENCES users (id),
	created_at   timestamptz NOT NULL,
	last_seen_at timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL -- created_at + the absolute lifetime
);
CREATE INDEX sessions_user ON sessions (user_id);

-- One row per username that failed recently, known or not, so that an
-- unknown name is locked like a real one and gives nothing away.
CREATE TABLE login_failures (
	username       text PRIMARY KEY,
	failures       int NOT NULL DEFAULT 0, -- in a row since the last success or lock
	last_failed_at timestamptz NOT NULL,
	locked_until   timestamptz
);
CREATE INDEX login_failures_last ON login_failures (last_failed_at);
