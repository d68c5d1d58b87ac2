-- Who may see an order (ccpor.OrderAccess) is asked of every hit of every
-- search. Read from each current version's document, it cost a random read
-- of a large row per hit: at a million orders most of a search's database
-- time. These columns carry it on the narrow orders row, written with it.
ALTER TABLE orders
	ADD COLUMN sealed              boolean   NOT NULL DEFAULT false,
	ADD COLUMN registered          boolean   NOT NULL DEFAULT false,
	-- Positions in protected[] of minors whose identity is confidential.
	ADD COLUMN confidential_minors integer[] NOT NULL DEFAULT '{}';

-- Only the few orders that differ from the defaults are rewritten.
UPDATE orders o SET
	sealed = coalesce((v.doc->>'sealed')::boolean, false),
	registered = v.doc ? 'registration',
	confidential_minors = coalesce((SELECT array_agg(e.ord - 1 ORDER BY e.ord)
		FROM jsonb_array_elements(v.doc->'protected') WITH ORDINALITY AS e(p, ord)
		WHERE coalesce((e.p->>'minor')::boolean, false) AND coalesce((e.p->>'confidential')::boolean, false)), '{}')
FROM order_versions v
WHERE v.order_id = o.id AND v.version = o.version
	AND (coalesce((v.doc->>'sealed')::boolean, false) OR v.doc ? 'registration'
		OR v.doc->'protected' @> '[{"minor": true, "confidential": true}]');
