-- transmissions is the queue of messages to law enforcement (FC 6380: the
-- court sends every order to CARPOS through CLETS within one business
-- day). Every intake and every later version of an order (modify, renew,
-- terminate, service) appends one message in the transaction that makes
-- the change (store/transmission.go), so no change is stored without its
-- message nor a message sent for a change that rolled back. Bulk import
-- and demo seeding append none: imported orders were sent by the system
-- they come from. Sealed orders are sent like any other: law enforcement
-- enforces them.
--
-- A message is pending until a transmitter has delivered it, then sent
-- until law enforcement answers: acknowledged or rejected (the reason in
-- last_error). A transmitter takes a pending message by moving
-- next_attempt_at to the end of its lease and counting the attempt; a
-- failure moves next_attempt_at by an exponential backoff. The attempt
-- count fences a transmitter whose lease ran out: only the holder of the
-- latest attempt may mark the message sent.
CREATE TABLE transmissions (
	id              uuid PRIMARY KEY,
	order_id        uuid NOT NULL REFERENCES orders (id),
	order_version   integer NOT NULL CHECK (order_version > 0),
	action          text NOT NULL CHECK (action IN ('enter', 'modify', 'renew', 'terminate', 'service')),
	county          text NOT NULL,
	-- payload is the message as sent, format named inside ({"format":
	-- "ccpor-order-v1", ...}); never changed once written.
	payload         jsonb NOT NULL,
	state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'acknowledged', 'rejected')),
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL,
	last_error      text NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL,
	sent_at         timestamptz,
	-- acknowledged_at is when law enforcement answered, either way.
	acknowledged_at timestamptz,
	-- due_on is the court day by whose end law enforcement must have it:
	-- the next court day after created_at, in California.
	due_on          date NOT NULL,
	-- One message per version; messages of one order are sent in version
	-- order.
	UNIQUE (order_id, order_version)
);
-- What the transmitters take: the pending messages, by when they are due.
CREATE INDEX transmissions_pending ON transmissions (next_attempt_at) WHERE state = 'pending';
-- The clerks' overdue queue, per county: only messages not yet
-- acknowledged, which are few whatever the registry's size.
CREATE INDEX transmissions_unacknowledged ON transmissions (county, due_on, created_at) WHERE state <> 'acknowledged';
