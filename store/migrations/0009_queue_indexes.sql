-- served says whether the current version records service or notice
-- (ccpor.Service.Served: served_in_court, personal, mail, verbal_notice),
-- kept on the head row so that a county's unserved orders are found by an
-- index rather than by reading every version's document. Every write sets
-- it (store/order.go, store/bulk.go).
ALTER TABLE orders ADD COLUMN served boolean NOT NULL DEFAULT false;
UPDATE orders o SET served = true
FROM order_versions v
WHERE v.order_id = o.id AND v.version = o.version
	AND v.doc->'service'->>'status' IN ('served_in_court', 'personal', 'mail', 'verbal_notice');

-- One partial index per work queue (store/queue.go): each reads only the
-- orders that can be in it. They replace 0008's, which still read most of
-- a large county's orders at a million.
DROP INDEX orders_county_expiry;
DROP INDEX orders_county_issued;
CREATE INDEX orders_queue_unserved ON orders (county, expires_at) WHERE NOT served AND terminated_on IS NULL;
CREATE INDEX orders_queue_temporary ON orders (county, expires_at) WHERE phase = 'temporary' AND terminated_on IS NULL;
CREATE INDEX orders_queue_after_hearing ON orders (county, expires_at) WHERE phase = 'after_hearing' AND terminated_on IS NULL;
-- The planner needs the new column's statistics before autovacuum's next
-- visit: the queues are read at once.
ANALYZE orders;
