-- The audit trail becomes append-only and hash-chained.
--
-- Each row carries who (user, role), what (action, the order acted on, the
-- orders an answer returned, detail), the outcome and the client's
-- address. Triggers refuse UPDATE, DELETE and TRUNCATE, so the application
-- cannot rewrite history; an owner or superuser can still disable them,
-- which is what the chain is for:
--
--   hash = sha256(prev_hash || canonical(row))
--
-- where prev_hash is the previous row's hash (32 zero bytes for the first
-- row) and canonical(row) is the row's content fields, each as text in a
-- netstring (`<bytes>:<text>,`, or `-,` for NULL), in the order of
-- audit_canonical below. store.VerifyAudit rebuilds the same bytes with
-- its own query, not with this function, and walks the chain: an altered
-- row no longer matches its hash, a removed one breaks the next row's
-- link, and a removed last row no longer matches audit_head.
--
-- Rows written before this migration are chained by it, from the first
-- row, so the chain covers the whole trail; for those rows it proves only
-- that they have not changed since the migration ran.

ALTER TABLE audit
	ADD COLUMN role        text NOT NULL DEFAULT '',
	-- Rows written before this migration were all successes: the API
	-- recorded an action only once it had been done.
	ADD COLUMN outcome     text NOT NULL DEFAULT 'ok',
	ADD COLUMN client_addr text NOT NULL DEFAULT '',
	ADD COLUMN order_ids   uuid[] NOT NULL DEFAULT '{}',
	ADD COLUMN prev_hash   bytea,
	ADD COLUMN hash        bytea;

CREATE FUNCTION audit_netstring(t text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN t IS NULL THEN '-,' ELSE octet_length(t)::text || ':' || t || ',' END
$$;

CREATE FUNCTION audit_canonical(a audit) RETURNS bytea
LANGUAGE sql STABLE AS $$
	SELECT convert_to(
		audit_netstring(a.id::text) ||
		audit_netstring(to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) ||
		audit_netstring(a.user_id::text) ||
		audit_netstring(a.user_name) ||
		audit_netstring(a.role) ||
		audit_netstring(a.action) ||
		audit_netstring(a.outcome) ||
		audit_netstring(a.client_addr) ||
		audit_netstring(a.order_id::text) ||
		audit_netstring(array_to_string(a.order_ids, ',')) ||
		audit_netstring(a.detail::text),
		'UTF8')
$$;

-- audit_head is the end of the chain: the last row's id and hash. Its row
-- lock serialises appends, so the chain stays a line under concurrency,
-- and it tells VerifyAudit when rows were removed from the end.
CREATE TABLE audit_head (
	one       boolean PRIMARY KEY DEFAULT true CHECK (one),
	last_id   bigint NOT NULL,
	last_hash bytea NOT NULL
);

DO $$
DECLARE
	r    audit;
	prev bytea := decode(repeat('00', 32), 'hex');
	last bigint := 0;
BEGIN
	FOR r IN SELECT * FROM audit ORDER BY id LOOP
		UPDATE audit SET prev_hash = prev, hash = sha256(prev || audit_canonical(r)) WHERE id = r.id
		RETURNING hash INTO prev;
		last := r.id;
	END LOOP;
	INSERT INTO audit_head (last_id, last_hash) VALUES (last, prev);
END $$;

ALTER TABLE audit
	ALTER COLUMN prev_hash SET NOT NULL,
	ALTER COLUMN hash SET NOT NULL,
	-- Ids are given under the head's lock, so id order is chain order.
	ALTER COLUMN id DROP DEFAULT;
DROP SEQUENCE audit_id_seq;

-- audit_append chains each new row. Whatever id or hashes the insert
-- carries are replaced. Under REPEATABLE READ or SERIALIZABLE a concurrent
-- append makes the FOR UPDATE fail rather than fork the chain.
CREATE FUNCTION audit_append() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	head audit_head;
BEGIN
	SELECT * INTO head FROM audit_head FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'audit chain head is missing';
	END IF;
	NEW.id := head.last_id + 1;
	NEW.prev_hash := head.last_hash;
	NEW.hash := sha256(NEW.prev_hash || audit_canonical(NEW));
	UPDATE audit_head SET last_id = NEW.id, last_hash = NEW.hash;
	RETURN NEW;
END $$;

CREATE FUNCTION audit_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege';
END $$;

-- audit_head_guard lets only audit_append move the head (it runs one
-- trigger level down).
CREATE FUNCTION audit_head_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
		RETURN NULL;
	END IF;
	RAISE EXCEPTION 'the audit chain head moves only with an append: % refused', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_append BEFORE INSERT ON audit
	FOR EACH ROW EXECUTE FUNCTION audit_append();
CREATE TRIGGER audit_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
	FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_head_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON audit_head
	FOR EACH STATEMENT EXECUTE FUNCTION audit_head_guard();

-- Admins ask: what did this user do, what happened to or who was shown
-- this order, what happened in this period.
CREATE INDEX audit_user ON audit (user_id, id);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_order_ids ON audit USING gin (order_ids);
