-- order_stats holds the public statistics (store/stats.go): for each
-- month, county and order type, the orders in effect at the month's end
-- (on the day of the refresh, for the month under way) and the orders
-- issued in the month. Counts only: no order, person, date of birth or
-- case number is in it. It is read by GET /api/v1/stats and /stats, which
-- publish complete months only and suppress small counts; it is
-- refreshed by store.RefreshStats (serve runs it every 15 minutes).
--
-- What is counted:
--   - sealed orders (FC 6404(a)(2): registered foreign orders, known to
--     nobody but the issuing court) not at all: the public may not learn
--     that one exists, not even as a one in a county's count;
--   - juvenile orders (WIC 827) statewide only: their county is '' here,
--     so no query can break them down by county;
--   - an order is in effect from its issue date to its expiry date (no
--     end when permanent), until terminated (not on the termination
--     date), and until the next order of its case (previous_order_id: the
--     order after hearing that follows a temporary order, a renewal) is
--     issued, so that one case at one moment counts once, as the clerks'
--     queues see it (store/queue.go).
--
-- An order is one +1 in its issue month and, once it lapses, one -1 in
-- the month of the first day it is no longer in effect; the orders in
-- effect at a month's end are the running sum. Each (county, type) has a
-- row for every month from its first order to the current month.
CREATE MATERIALIZED VIEW order_stats AS
WITH today AS (
	SELECT (now() AT TIME ZONE 'America/Los_Angeles')::date AS d
), counted AS (
	SELECT CASE WHEN o.type = 'JV' THEN '' ELSE o.county END AS county, o.type, o.issued_on,
		CASE WHEN e.ends IS NOT NULL THEN greatest(e.ends, o.issued_on) END AS lapses_on
	FROM orders o
	JOIN order_versions v ON v.order_id = o.id AND v.version = o.version
	LEFT JOIN (SELECT previous_order_id AS id, min(issued_on) AS issued_on FROM orders
		WHERE previous_order_id IS NOT NULL GROUP BY previous_order_id) n ON n.id = o.id
	-- ends: the first day the order is no longer in effect, if known.
	CROSS JOIN LATERAL (SELECT least(o.expires_at + 1, o.terminated_on, n.issued_on) AS ends) e
	WHERE NOT coalesce((v.doc->>'sealed')::boolean, false)
		AND o.issued_on <= (SELECT d FROM today)
), events AS (
	SELECT county, type, date_trunc('month', issued_on)::date AS month, 1 AS issued, 1 AS delta
	FROM counted
	UNION ALL
	SELECT county, type, date_trunc('month', lapses_on)::date, 0, -1
	FROM counted
	WHERE lapses_on <= (SELECT d FROM today)
), monthly AS (
	SELECT county, type, month, sum(issued)::integer AS issued, sum(delta)::integer AS delta
	FROM events
	GROUP BY county, type, month
), grid AS (
	SELECT s.county, s.type, m::date AS month
	FROM (SELECT county, type, min(month) AS first FROM monthly GROUP BY county, type) s
	CROSS JOIN today t
	CROSS JOIN generate_series(s.first, date_trunc('month', t.d), interval '1 month') m
)
SELECT g.month, g.county, g.type,
	(sum(coalesce(m.delta, 0)) OVER (PARTITION BY g.county, g.type ORDER BY g.month))::integer AS active,
	coalesce(m.issued, 0) AS issued
FROM grid g
LEFT JOIN monthly m ON m.county = g.county AND m.type = g.type AND m.month = g.month;

-- REFRESH ... CONCURRENTLY needs a unique index on plain columns; it
-- also serves the readers, who ask for a range of months.
CREATE UNIQUE INDEX order_stats_key ON order_stats (month, county, type);

-- order_stats_refresh is when order_stats was last refreshed: the
-- statistics' "as of", and the current month, which is not published
-- until it is over.
CREATE TABLE order_stats_refresh (
	one          boolean PRIMARY KEY DEFAULT true CHECK (one),
	refreshed_at timestamptz NOT NULL
);
INSERT INTO order_stats_refresh (refreshed_at) VALUES (now());
