// Package baseline is the person search a team would build on PostgreSQL
// alone — pg_trgm similarity, fuzzystrmatch's double metaphone, a birth
// date index — run on the registry's own tables, so the benchmark can set
// the Bleve index and matching engine against it on the same data in the
// same run. It is for measurement only: nothing in the registry calls it,
// and its table is made here, not by a migration.
//
// It is meant as a fair opponent, not a straw man: every branch of a
// search is served by an index, names are folded the way the registry
// folds them (accents, case, punctuation), typos are met by trigrams and
// sound by metaphone, names written in each other's boxes and a garbled
// surname with a good first name and birth year are found too, and the
// candidates are ranked in SQL before the LIMIT.
package baseline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// schemaVersion names the shape of baseline_people and its indexes; an
// installed table of another version is built again.
const schemaVersion = "baseline-1"

// installLock serialises Install across processes: CREATE EXTENSION and
// the rebuild are not safe to run twice at once.
const installLock = 0x63_63_70_6f_72_b1 // "ccpor" b1

// fullRebuildAt is how many changed orders make a rebuild cheaper than
// deleting and re-inserting their people under live indexes.
const fullRebuildAt = 50000

// Limits of one search.
const (
	DefaultLimit = 50
	// MaxLimit keeps a search from listing the registry.
	MaxLimit = 500
)

// setupSQL is idempotent. baseline_norm folds a name as the registry does
// (NFC is the writer's job): accents off, lower case, apostrophes and dots
// dropped so "O'Brien" is "obrien", any other run of non-letters one
// space. unaccent is not IMMUTABLE (its dictionary could change), so an
// expression index needs this wrapper naming the dictionary; that is the
// usual idiom and true of a dictionary nobody edits.
var setupSQL = []string{
	`CREATE EXTENSION IF NOT EXISTS pg_trgm`,
	`CREATE EXTENSION IF NOT EXISTS fuzzystrmatch`,
	`CREATE EXTENSION IF NOT EXISTS unaccent`,
	`CREATE OR REPLACE FUNCTION baseline_norm(text) RETURNS text
		LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
		$$ SELECT btrim(regexp_replace(regexp_replace(lower(unaccent('unaccent'::regdictionary, $1)),
			'[''’.]', '', 'g'), '[^[:alpha:]]+', ' ', 'g')) $$`,
	`CREATE TABLE IF NOT EXISTS baseline_state (
		id integer PRIMARY KEY CHECK (id = 1),
		schema text NOT NULL,
		seq bigint NOT NULL,
		built_at timestamptz NOT NULL
	)`,
}

// tableSQL makes an empty people table. The names are COLLATE "C" so a
// prefix is a plain btree range whatever the database's collation, with
// the prefix as a parameter.
const tableSQL = `CREATE TABLE baseline_people (
	order_id   uuid NOT NULL,
	role       text NOT NULL,
	first_n    text COLLATE "C" NOT NULL,
	last_n     text COLLATE "C" NOT NULL,
	dob        date,
	birth_year integer
)`

// indexSQL is built after a bulk load, which is several times faster
// than filling the indexes row by row.
var indexSQL = []string{
	`CREATE INDEX baseline_people_last_trgm ON baseline_people USING gin (last_n gin_trgm_ops)`,
	`CREATE INDEX baseline_people_first_trgm ON baseline_people USING gin (first_n gin_trgm_ops)`,
	`CREATE INDEX baseline_people_name ON baseline_people (last_n, first_n)`,
	`CREATE INDEX baseline_people_last_dm ON baseline_people (dmetaphone(last_n))`,
	`CREATE INDEX baseline_people_last_dma ON baseline_people (dmetaphone_alt(last_n))`,
	`CREATE INDEX baseline_people_dob ON baseline_people (dob)`,
	`CREATE INDEX baseline_people_year ON baseline_people (birth_year)`,
	`CREATE INDEX baseline_people_order ON baseline_people (order_id)`,
}

// fillSQL inserts the people of the current version of the orders the
// WHERE clause (%s) keeps: the restrained person and every protected
// person, each under their name and each alias. An alias is one string:
// "Last, First", "First … Last", or a lone given name that keeps the
// person's family name (as matching.NamesOf reads them).
const fillSQL = `
INSERT INTO baseline_people (order_id, role, first_n, last_n, dob, birth_year)
SELECT o.id, p.role, coalesce(baseline_norm(n.first), ''), coalesce(baseline_norm(n.last), ''),
	p.dob, coalesce(extract(year FROM p.dob)::integer, nullif(p.birth_year, 0))
FROM orders o
JOIN order_versions v ON v.order_id = o.id AND v.version = o.version
CROSS JOIN LATERAL (
	SELECT 'restrained' AS role, v.doc->'restrained' AS person
	UNION ALL
	SELECT 'protected', e FROM jsonb_array_elements(
		CASE WHEN jsonb_typeof(v.doc->'protected') = 'array' THEN v.doc->'protected' ELSE '[]' END) e
) pp
CROSS JOIN LATERAL (
	SELECT pp.role, pp.person,
		CASE WHEN pp.person->>'dob' ~ '^\d{4}-\d{2}-\d{2}$' THEN (pp.person->>'dob')::date END AS dob,
		CASE WHEN pp.person->>'birth_year' ~ '^\d{1,4}$' THEN (pp.person->>'birth_year')::integer END AS birth_year
) p
CROSS JOIN LATERAL (
	SELECT p.person->>'first' AS first, p.person->>'last' AS last
	UNION ALL
	SELECT CASE WHEN a LIKE '%%,%%' THEN split_part(a, ',', 2)
			WHEN btrim(a) ~ '\s' THEN regexp_replace(btrim(a), '\s.*$', '')
			ELSE a END,
		CASE WHEN a LIKE '%%,%%' THEN split_part(a, ',', 1)
			WHEN btrim(a) ~ '\s' THEN regexp_replace(btrim(a), '^.*\s', '')
			ELSE p.person->>'last' END
	FROM jsonb_array_elements_text(
		CASE WHEN jsonb_typeof(p.person->'aliases') = 'array' THEN p.person->'aliases' ELSE '[]' END) a
) n
%s`

// Install creates the pg_trgm and fuzzystrmatch extensions and the people
// table and indexes the baseline searches, filled from the orders' current
// versions (every person of every order: restrained and protected).
// Idempotent; safe to call on a registry of 1,000,000 orders, and cheap to
// call again when already installed and up to date: the table follows the
// outbox, so a second call compares one number and returns.
func Install(ctx context.Context, pool *pgxpool.Pool) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, installLock); err != nil {
			return err
		}
		for _, s := range setupSQL {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		var head int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM outbox`).Scan(&head); err != nil {
			return err
		}
		var schema string
		var seq int64
		err := tx.QueryRow(ctx, `SELECT schema, seq FROM baseline_state WHERE id = 1`).Scan(&schema, &seq)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return rebuild(ctx, tx, head)
		case err != nil:
			return err
		case schema != schemaVersion:
			return rebuild(ctx, tx, head)
		case seq == head:
			return nil
		}
		var changed int
		if err := tx.QueryRow(ctx, `SELECT count(DISTINCT order_id) FROM outbox WHERE seq > $1 AND seq <= $2`,
			seq, head).Scan(&changed); err != nil {
			return err
		}
		if changed >= fullRebuildAt {
			return rebuild(ctx, tx, head)
		}
		return catchUp(ctx, tx, seq, head)
	})
	if err != nil {
		return fmt.Errorf("install baseline: %w", err)
	}
	return nil
}

// rebuild fills a new people table from every order, in one statement,
// then indexes it. Searches wait on the table's lock until it commits.
func rebuild(ctx context.Context, tx pgx.Tx, head int64) error {
	stmts := []string{
		`SET LOCAL maintenance_work_mem = '256MB'`,
		`DROP TABLE IF EXISTS baseline_people`,
		tableSQL,
		fmt.Sprintf(fillSQL, ""),
	}
	stmts = append(stmts, indexSQL...)
	stmts = append(stmts, `ANALYZE baseline_people`)
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return err
		}
	}
	return setState(ctx, tx, head)
}

// catchUp replaces the people of the orders changed since seq. Changes
// committed after head was read may be applied now as well; they come
// again next time, and applying an order twice gives the same rows.
func catchUp(ctx context.Context, tx pgx.Tx, seq, head int64) error {
	const changed = `(SELECT DISTINCT order_id FROM outbox WHERE seq > $1 AND seq <= $2)`
	if _, err := tx.Exec(ctx, `DELETE FROM baseline_people WHERE order_id IN `+changed, seq, head); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(fillSQL, `WHERE o.id IN `+changed), seq, head); err != nil {
		return err
	}
	return setState(ctx, tx, head)
}

func setState(ctx context.Context, tx pgx.Tx, head int64) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO baseline_state (id, schema, seq, built_at) VALUES (1, $1, $2, now())
		ON CONFLICT (id) DO UPDATE SET schema = excluded.schema, seq = excluded.seq, built_at = excluded.built_at`,
		schemaVersion, head)
	return err
}

// Query is what an officer search or a duplicate check gives: a last name
// (maybe partial, >= 2 letters), a first name or initial, a date of birth
// "YYYY-MM-DD" or "".
type Query struct {
	Last, First, DOB string
	Limit            int
}

// Search returns the IDs of candidate orders, best first, at most Limit
// (default 50, at most MaxLimit). A query with nothing to search by — no
// last name of two letters, no birth date, no first name — finds nothing.
//
// Candidates are people whose last name is within pg_trgm's default
// similarity (0.3), starts with the typed one (with the first initial,
// when given, so "ga" + "r" is a range scan, not every "Ga…"), sounds the
// same by double metaphone, or is the typed first name while their first
// name is the typed last name; or who were born on the typed date, or in
// its year under a similar first name. Each condition has its index and
// the planner ORs their bitmaps. They are ranked by a weighted sum: last
// name twice, first name once, birth date one and a half.
func Search(ctx context.Context, pool *pgxpool.Pool, q Query) ([]string, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var dob time.Time
	if q.DOB != "" {
		d, err := time.Parse(time.DateOnly, q.DOB)
		if err != nil {
			return nil, fmt.Errorf("baseline search: date of birth %q is not YYYY-MM-DD", q.DOB)
		}
		dob = d
	}
	nLast, nFirst := letters(q.Last), letters(q.First)
	hasLast, hasFirst, hasDOB := nLast >= 2, nFirst >= 1, !dob.IsZero()
	fullFirst := nFirst >= 2
	if !hasLast && !hasDOB && !fullFirst {
		return nil, nil
	}

	// Typed text reaches the server as parameters only; the SQL around
	// them is chosen from fixed fragments by what the query has. Each
	// folded name is a scalar subquery, an InitPlan run once: written
	// inline, baseline_norm would run again for every row a filter sees.
	var args []any
	param := func(v any, typ string) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args)) + "::" + typ
	}
	var L, F, I, D string
	if hasLast {
		L = "(SELECT baseline_norm(" + param(q.Last, "text") + "))"
	}
	if hasFirst {
		first := param(q.First, "text") // one parameter: F alone or I alone may be used
		F = "(SELECT baseline_norm(" + first + "))"
		I = "(SELECT left(baseline_norm(" + first + "), 1))"
	}
	if hasDOB {
		D = param(dob, "date")
	}
	const top = "chr(1114111)" // above every letter in "C" order: L || top ends L's range

	var conds []string
	if hasLast {
		prefix := "(p.last_n >= " + L + " AND p.last_n < " + L + " || " + top
		if hasFirst {
			prefix += " AND p.first_n >= " + I + " AND p.first_n < " + I + " || " + top
		}
		conds = append(conds, prefix+")")
		if nLast >= 3 {
			conds = append(conds, "p.last_n % "+L)
		}
		if nLast >= 4 {
			conds = append(conds, "dmetaphone(p.last_n) = dmetaphone("+L+")",
				"dmetaphone_alt(p.last_n) = dmetaphone_alt("+L+")")
		}
		if fullFirst && nLast >= 3 {
			conds = append(conds, "(p.last_n % "+F+" AND p.first_n % "+L+")")
		}
	}
	if hasDOB {
		conds = append(conds, "p.dob = "+D)
		if fullFirst {
			conds = append(conds, "(p.first_n % "+F+" AND p.birth_year = extract(year FROM "+D+")::integer)")
		}
	}
	if !hasLast && !hasDOB {
		conds = append(conds, "p.first_n % "+F)
	}

	var score []string
	if hasLast {
		s := "2 * greatest(similarity(p.last_n, " + L + "), CASE WHEN starts_with(p.last_n, " + L + ") THEN 0.8 ELSE 0 END"
		if nLast >= 4 {
			s += ", CASE WHEN dmetaphone(p.last_n) = dmetaphone(" + L + ") THEN 0.6 ELSE 0 END"
		}
		if fullFirst {
			s += ", 0.7 * least(similarity(p.last_n, " + F + "), similarity(p.first_n, " + L + "))"
		}
		score = append(score, s+")")
	}
	if fullFirst {
		score = append(score, "greatest(similarity(p.first_n, "+F+"), CASE WHEN starts_with(p.first_n, "+F+") THEN 0.7 ELSE 0 END, "+
			"CASE WHEN starts_with(p.first_n, "+I+") THEN 0.2 ELSE 0 END)")
	} else if hasFirst {
		score = append(score, "CASE WHEN starts_with(p.first_n, "+I+") THEN 0.6 ELSE 0 END")
	}
	if hasDOB {
		score = append(score, "1.5 * CASE WHEN p.dob = "+D+" THEN 1"+
			" WHEN p.birth_year = extract(year FROM "+D+")::integer THEN"+
			" CASE WHEN extract(month FROM p.dob) = extract(month FROM "+D+") OR extract(day FROM p.dob) = extract(day FROM "+D+") THEN 0.5 ELSE 0.3 END"+
			" WHEN abs(p.birth_year - extract(year FROM "+D+")::integer) = 1 THEN 0.1 ELSE 0 END")
	}
	sql := "SELECT p.order_id::text FROM baseline_people p WHERE " + strings.Join(conds, " OR ") +
		" GROUP BY p.order_id ORDER BY max(" + strings.Join(score, " + ") + ") DESC, p.order_id LIMIT " + param(limit, "integer")
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("baseline search: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("baseline search: %w", err)
	}
	return ids, nil
}

// letters counts what baseline_norm would keep of a name, near enough to
// decide which conditions a query can afford.
func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}
