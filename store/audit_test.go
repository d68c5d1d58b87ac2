package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// mustAudit appends n entries as a judge from 10.1.2.3, the k-th with
// detail {"k": k}.
func mustAudit(tb testing.TB, db *store.DB, n int) {
	tb.Helper()
	ctx := ccpor.NewContextWithUser(context.Background(), &ccpor.User{ID: 7, Name: "Judge Rivera", Role: ccpor.RoleJudge})
	ctx = store.NewContextWithAuditRequest(ctx, &store.AuditRequest{ClientAddr: "10.1.2.3"})
	for k := range n {
		if err := db.Audit(ctx, "order.view", "", map[string]int{"k": k}); err != nil {
			tb.Fatal(err)
		}
	}
}

// mustVerify verifies the chain and fails unless its verdict is want ("" for
// a chain that holds) naming row bad.
func mustVerify(tb testing.TB, db *store.DB, bad int64, want string) *store.AuditVerification {
	tb.Helper()
	v, err := db.VerifyAudit(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	if v.BadID != bad || !strings.Contains(v.Problem, want) || (want == "") != v.OK() {
		tb.Fatalf("verify = row %d %q, want row %d %q", v.BadID, v.Problem, bad, want)
	}
	return v
}

// mustTamper runs sql as the tables' owner with the append-only trigger
// off, as an intruder with the database's keys would.
func mustTamper(tb testing.TB, db *store.DB, sql string) {
	tb.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		for _, q := range []string{`ALTER TABLE audit DISABLE TRIGGER audit_immutable`, sql, `ALTER TABLE audit ENABLE TRIGGER audit_immutable`} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func TestAudit(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db := mustDB(t)
		mustVerify(t, db, 0, "")
		mustAudit(t, db, 5)
		v := mustVerify(t, db, 0, "")
		if v.Rows != 5 || v.LastID != 5 {
			t.Errorf("verified %d rows to row %d, want 5 to row 5", v.Rows, v.LastID)
		}
		got, err := db.AuditQuery(ctx, store.AuditFilter{Oldest: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Fatalf("%d entries, want 5", len(got))
		}
		if !bytes.Equal(got[0].PrevHash, make([]byte, 32)) {
			t.Errorf("first prev_hash = %x, want zeros", got[0].PrevHash)
		}
		for i := 1; i < len(got); i++ {
			if !bytes.Equal(got[i].PrevHash, got[i-1].Hash) || len(got[i].Hash) != 32 {
				t.Errorf("row %d: prev_hash %x does not link to %x", got[i].ID, got[i].PrevHash, got[i-1].Hash)
			}
		}
		if !bytes.Equal(v.Head, got[4].Hash) {
			t.Errorf("head = %x, want the last row's hash %x", v.Head, got[4].Hash)
		}
		e := got[2]
		if e.UserID != 7 || e.UserName != "Judge Rivera" || e.Role != ccpor.RoleJudge || e.Outcome != store.AuditOK ||
			e.ClientAddr != "10.1.2.3" || !e.At.Equal(now) || e.At.Location() != time.UTC || string(e.Detail) != `{"k": 2}` {
			t.Errorf("entry = %+v", e)
		}
	})
	t.Run("ErrAltered", func(t *testing.T) {
		db := mustDB(t)
		mustAudit(t, db, 6)
		mustTamper(t, db, `UPDATE audit SET detail = '{"k": 99}' WHERE id = 3`)
		mustVerify(t, db, 3, "row 3 was altered")
	})
	t.Run("ErrAlteredRechained", func(t *testing.T) {
		// Rehashing the altered row itself only moves the break to the next.
		db := mustDB(t)
		mustAudit(t, db, 6)
		mustTamper(t, db, `UPDATE audit SET user_name = 'Nobody' WHERE id = 3;
			UPDATE audit SET hash = sha256(prev_hash || audit_canonical(audit)) WHERE id = 3`)
		mustVerify(t, db, 4, "row 4 does not follow row 3")
	})
	t.Run("ErrRemoved", func(t *testing.T) {
		db := mustDB(t)
		mustAudit(t, db, 6)
		mustTamper(t, db, `DELETE FROM audit WHERE id = 4`)
		mustVerify(t, db, 5, "row 4 was removed")
	})
	t.Run("ErrRemovedFirst", func(t *testing.T) {
		db := mustDB(t)
		mustAudit(t, db, 3)
		mustTamper(t, db, `DELETE FROM audit WHERE id = 1`)
		mustVerify(t, db, 2, "does not start the chain")
	})
	t.Run("ErrRemovedLast", func(t *testing.T) {
		db := mustDB(t)
		mustAudit(t, db, 6)
		mustTamper(t, db, `DELETE FROM audit WHERE id >= 5`)
		mustVerify(t, db, 5, "rows 5 to 6 were removed")
	})
	t.Run("ErrReordered", func(t *testing.T) {
		db := mustDB(t)
		mustAudit(t, db, 6)
		mustTamper(t, db, `UPDATE audit SET id = -id WHERE id IN (2, 3);
			UPDATE audit SET id = CASE id WHEN -2 THEN 3 ELSE 2 END WHERE id < 0`)
		mustVerify(t, db, 2, "row 2 was altered")
	})
	t.Run("ErrRefused", func(t *testing.T) {
		db := mustDB(t)
		mustAudit(t, db, 3)
		for _, q := range []string{
			`UPDATE audit SET detail = '{}' WHERE id = 2`,
			`UPDATE audit SET detail = '{}' WHERE id = 999`, // even when it would change nothing
			`DELETE FROM audit WHERE id = 2`,
			`TRUNCATE audit`,
			`UPDATE audit_head SET last_id = 2`,
			`DELETE FROM audit_head`,
			`INSERT INTO audit_head (one, last_id, last_hash) VALUES (false, 0, '')`,
		} {
			if _, err := db.Pool.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "refused") {
				t.Errorf("%s: err = %v, want refused", q, err)
			}
		}
		// A forged id or hash on insert is replaced, not believed.
		if _, err := db.Pool.Exec(ctx, `INSERT INTO audit (id, at, action, prev_hash, hash) VALUES (1, now(), 'forged', '\x00', '\x00')`); err != nil {
			t.Fatal(err)
		}
		v := mustVerify(t, db, 0, "")
		if v.LastID != 4 {
			t.Errorf("last id = %d, want 4", v.LastID)
		}
	})
	t.Run("Request", func(t *testing.T) {
		db := mustDB(t)
		r := &store.AuditRequest{ClientAddr: "192.0.2.1"}
		ctx := store.NewContextWithAuditRequest(ctx, r)
		if err := db.Audit(ctx, "order.view", "", nil); err != nil {
			t.Fatal(err)
		}
		if !r.Recorded() || r.RecordedFailure() {
			t.Errorf("after ok: recorded %v, failure %v", r.Recorded(), r.RecordedFailure())
		}
		if err := db.AppendAudit(ctx, &store.AuditEntry{Action: "session.login", Outcome: store.AuditUnauthenticated}); err != nil {
			t.Fatal(err)
		}
		if !r.RecordedFailure() {
			t.Error("a failure recorded is not known as one")
		}
		if es, _ := db.AuditQuery(ctx, store.AuditFilter{ClientAddr: "192.0.2.1"}); len(es) != 2 {
			t.Errorf("entries from the request's client = %+v", es)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		db := mustDB(t)
		cfg := db.Pool.Config()
		cfg.MaxConns = 50
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		wide := &store.DB{Pool: pool, Now: time.Now}
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() { mustAudit(t, wide, 10) })
		}
		wg.Wait()
		v := mustVerify(t, db, 0, "")
		if v.Rows != 500 || v.LastID != 500 {
			t.Errorf("verified %d rows to row %d, want 500 to row 500", v.Rows, v.LastID)
		}
	})
}

func TestAuditQuery(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	a, b := "7e0f5a4e-9a43-4c6d-9a4b-0c5a3f8f2a11", "0b8e7c1d-2f4a-4e5b-8c6d-7e8f9a0b1c2d"
	officer := ccpor.NewContextWithUser(ctx, &ccpor.User{ID: 3, Name: "Deputy Okafor", Role: ccpor.RoleOfficer})
	for _, e := range []*store.AuditEntry{
		{Action: "search", OrderIDs: []string{a, b}, Detail: json.RawMessage(`{"last": "garc"}`)},
		{Action: "order.view", OrderID: a},
		{Action: "order.view", OrderID: b, Outcome: store.AuditDenied, ClientAddr: "192.0.2.1"},
		{Action: "search", Detail: json.RawMessage(`{"last": "zzz"}`)},
	} {
		if err := db.AppendAudit(officer, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Audit(ctx, "order.view", a, nil); err != nil { // no user
		t.Fatal(err)
	}
	ids := func(es []store.AuditEntry) (out []int64) {
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	for name, tc := range map[string]struct {
		f    store.AuditFilter
		want []int64
	}{
		"All":           {store.AuditFilter{}, []int64{5, 4, 3, 2, 1}},
		"Oldest":        {store.AuditFilter{Oldest: true, Limit: 2}, []int64{1, 2}},
		"Order":         {store.AuditFilter{OrderID: a}, []int64{5, 2, 1}},
		"OrderReturned": {store.AuditFilter{OrderID: b, Action: "search"}, []int64{1}},
		"User":          {store.AuditFilter{UserID: 3}, []int64{4, 3, 2, 1}},
		"Role":          {store.AuditFilter{Role: ccpor.RoleOfficer, Outcome: store.AuditDenied}, []int64{3}},
		"Client":        {store.AuditFilter{ClientAddr: "192.0.2.1"}, []int64{3}},
		"Page":          {store.AuditFilter{Before: 4, Limit: 2}, []int64{3, 2}},
		"Since":         {store.AuditFilter{Since: now}, []int64{5, 4, 3, 2, 1}},
		"Until":         {store.AuditFilter{Until: now}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := db.AuditQuery(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ids(got)) != fmt.Sprint(tc.want) {
				t.Errorf("ids = %v, want %v", ids(got), tc.want)
			}
		})
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, f := range []store.AuditFilter{{OrderID: "nope"}, {Limit: -1}, {Limit: store.MaxAuditLimit + 1}} {
			if _, err := db.AuditQuery(ctx, f); ccpor.ErrorCode(err) != ccpor.EInvalid {
				t.Errorf("%+v: err = %v, want invalid", f, err)
			}
		}
	})
}

// TestAuditMigration checks that 0004 chains the rows written before it:
// the old schema is built in a schema of its own, filled, then migrated.
func TestAuditMigration(t *testing.T) {
	ctx := context.Background()
	url := storetest.MustCreateDatabase(t)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = "before_chain"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE SCHEMA before_chain`); err != nil {
		t.Fatal(err)
	}
	run := func(name string) {
		t.Helper()
		sql, err := store.Migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, string(sql)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	run("0001_init.sql")
	// Old rows, with a gap where an insert rolled back.
	if _, err := pool.Exec(ctx, `
		INSERT INTO audit (id, at, user_id, user_name, action, order_id, detail) VALUES
			(1, '2026-01-05 09:00:00.123456-08', 1, 'Clerk Tran', 'order.create', '7e0f5a4e-9a43-4c6d-9a4b-0c5a3f8f2a11', '{"b": 1, "a": [1, 2]}'),
			(2, '2026-01-05 09:01:00-08', 2, 'Officer', 'search', NULL, NULL),
			(4, '2026-01-05 09:02:00-08', NULL, '', 'order.view', NULL, 'null');
		SELECT setval('audit_id_seq', 4)`); err != nil {
		t.Fatal(err)
	}
	run("0004_audit_chain.sql")
	db := &store.DB{Pool: pool, Now: func() time.Time { return now }}
	v := mustVerify(t, db, 0, "")
	if v.Rows != 3 || v.LastID != 4 {
		t.Errorf("verified %d rows to row %d, want 3 to row 4", v.Rows, v.LastID)
	}
	mustAudit(t, db, 2)
	v = mustVerify(t, db, 0, "")
	if v.Rows != 5 || v.LastID != 6 {
		t.Errorf("verified %d rows to row %d, want 5 to row 6", v.Rows, v.LastID)
	}
	mustTamper(t, db, `UPDATE audit SET at = at + interval '1 microsecond' WHERE id = 1`)
	mustVerify(t, db, 1, "row 1 was altered")
}

// BenchmarkAudit measures one append: chained (the trigger, the head's
// lock), and for comparison a plain insert into a table with the same
// columns and indexes and no chain.
func BenchmarkAudit(b *testing.B) {
	ctx := ccpor.NewContextWithUser(context.Background(), &ccpor.User{ID: 7, Name: "Deputy Okafor", Role: ccpor.RoleOfficer})
	ctx = store.NewContextWithAuditRequest(ctx, &store.AuditRequest{ClientAddr: "10.1.2.3"})
	db := storetest.MustOpenDB(b)
	if _, err := db.Pool.Exec(ctx, `
		CREATE TABLE audit_plain (LIKE audit INCLUDING INDEXES);
		ALTER TABLE audit_plain ALTER COLUMN prev_hash DROP NOT NULL, ALTER COLUMN hash DROP NOT NULL;
		CREATE SEQUENCE audit_plain_id OWNED BY audit_plain.id;
		ALTER TABLE audit_plain ALTER COLUMN id SET DEFAULT nextval('audit_plain_id')`); err != nil {
		b.Fatal(err)
	}
	ids := []string{"7e0f5a4e-9a43-4c6d-9a4b-0c5a3f8f2a11", "0b8e7c1d-2f4a-4e5b-8c6d-7e8f9a0b1c2d"}
	detail := json.RawMessage(`{"last": "garc", "first": "r", "dob": "1984-07-05"}`)
	plain := func() error {
		_, err := db.Pool.Exec(ctx, `
			INSERT INTO audit_plain (at, user_id, user_name, role, action, outcome, client_addr, order_ids, detail)
			VALUES ($1, 7, 'Deputy Okafor', 'officer', 'search', 'ok', '10.1.2.3', $2::text[]::uuid[], $3)`,
			time.Now(), ids, detail)
		return err
	}
	chained := func() error {
		return db.AppendAudit(ctx, &store.AuditEntry{Action: "search", OrderIDs: ids, Detail: detail})
	}
	b.Run("Chained", func(b *testing.B) {
		for b.Loop() {
			if err := chained(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Plain", func(b *testing.B) {
		for b.Loop() {
			if err := plain(); err != nil {
				b.Fatal(err)
			}
		}
	})
	// In parallel the chain shows its price: the head's lock is held
	// until commit, so appends commit one after another instead of
	// sharing a WAL flush.
	for name, f := range map[string]func() error{"ChainedParallel": chained, "PlainParallel": plain} {
		b.Run(name, func(b *testing.B) {
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := f(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	// Without waiting for the WAL flush, what is left is the chain's own
	// work: the trigger, the head's row lock and update, the hashing.
	cfg := db.Pool.Config()
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	unflushed := &store.DB{Pool: pool, Now: time.Now}
	b.Run("ChainedNoFlush", func(b *testing.B) {
		for b.Loop() {
			if err := unflushed.AppendAudit(ctx, &store.AuditEntry{Action: "search", OrderIDs: ids, Detail: detail}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PlainNoFlush", func(b *testing.B) {
		for b.Loop() {
			if _, err := pool.Exec(ctx, `
				INSERT INTO audit_plain (at, user_id, user_name, role, action, outcome, client_addr, order_ids, detail)
				VALUES ($1, 7, 'Deputy Okafor', 'officer', 'search', 'ok', '10.1.2.3', $2::text[]::uuid[], $3)`,
				time.Now(), ids, detail); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.StopTimer()
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() {
		b.Fatalf("verify after the benchmark: %+v %v", v, err)
	}
}

// TestAuditConcurrent: appends from many requests at once are written
// together (group commit), each answered with its own row, the chain a
// line; one entry the database refuses fails alone.
func TestAuditConcurrent(t *testing.T) {
	ctx := ccpor.NewContextWithUser(context.Background(), &ccpor.User{ID: 7, Name: "Deputy Okafor", Role: ccpor.RoleOfficer})
	db := storetest.MustOpenDB(t)
	const n = 300
	entries := make([]*store.AuditEntry, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		entries[i] = &store.AuditEntry{Action: "search", Detail: json.RawMessage(fmt.Sprintf(`{"k": %d}`, i))}
		if i == 150 {
			entries[i].OrderIDs = []string{"not a uuid"}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.AppendAudit(ctx, entries[i])
		}()
	}
	wg.Wait()
	ids := map[int64]bool{}
	for i, e := range entries {
		if i == 150 {
			if errs[i] == nil {
				t.Error("an entry with a bad order id was written")
			}
			continue
		}
		if errs[i] != nil {
			t.Fatalf("entry %d: %v", i, errs[i])
		}
		if e.ID == 0 || ids[e.ID] || len(e.Hash) != 32 {
			t.Fatalf("entry %d: id %d (seen: %v), hash %x", i, e.ID, ids[e.ID], e.Hash)
		}
		ids[e.ID] = true
	}
	v, err := db.VerifyAudit(ctx)
	if err != nil || !v.OK() || v.Rows != n-1 {
		t.Fatalf("verify: %+v, %v; want %d rows, whole", v, err, n-1)
	}
}
