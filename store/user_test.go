package store_test

import (
	"context"
	"crypto/sha256"
	"io/fs"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/storetest"
	"github.com/jackc/pgx/v5"
)

// clockDB returns a database whose clock the test moves with the
// returned function.
func clockDB(tb testing.TB) (*store.DB, func(time.Duration)) {
	tb.Helper()
	db := storetest.MustOpenDB(tb)
	at := now
	db.Now = func() time.Time { return at }
	return db, func(d time.Duration) { at = at.Add(d) }
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	db, advance := clockDB(t)
	u := &ccpor.User{Name: "Deputy Okafor", Role: ccpor.RoleOfficer, Organisation: "Alameda County Sheriff's Office"}
	_, first, err := db.AddUser(ctx, u, ccpor.NewUser{TokenLifetime: 2 * time.Hour, TokenLabel: "patrol car"})
	if err != nil {
		t.Fatal(err)
	}
	tok, second, err := db.CreateToken(ctx, u.ID, "dispatch", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.ExpiresAt, now.Add(ccpor.DefaultTokenLifetime); !got.Equal(want) {
		t.Errorf("default expiry %v, want %v", got, want)
	}
	t.Run("OK", func(t *testing.T) {
		for _, token := range []string{first, second} {
			got, err := db.Authenticate(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != u.ID || got.Organisation != "Alameda County Sheriff's Office" {
				t.Errorf("authenticated %+v", got)
			}
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		advance(2 * time.Hour)
		if _, err := db.Authenticate(ctx, first); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
			t.Errorf("expired token: %v, want unauthorized", err)
		}
		if _, err := db.Authenticate(ctx, second); err != nil {
			t.Errorf("the other token stopped with the expired one: %v", err)
		}
	})
	t.Run("ErrRevoked", func(t *testing.T) {
		got, err := db.RevokeToken(ctx, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.UserID != u.ID || got.RevokedAt == nil {
			t.Errorf("revoked %+v", got)
		}
		if _, err := db.Authenticate(ctx, second); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
			t.Errorf("revoked token: %v, want unauthorized", err)
		}
		if _, err := db.RevokeToken(ctx, 999999); ccpor.ErrorCode(err) != ccpor.ENotFound {
			t.Errorf("revoking no token: %v, want not found", err)
		}
	})
	t.Run("ErrLifetime", func(t *testing.T) {
		for _, d := range []time.Duration{-time.Hour, time.Second, 400 * 24 * time.Hour} {
			if _, _, err := db.CreateToken(ctx, u.ID, "", d); ccpor.ErrorCode(err) != ccpor.EInvalid {
				t.Errorf("lifetime %v: %v, want invalid", d, err)
			}
		}
		if _, _, err := db.CreateToken(ctx, 999999, "", 0); ccpor.ErrorCode(err) != ccpor.ENotFound {
			t.Errorf("token for nobody: %v, want not found", err)
		}
	})
}

func TestAddUser(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	t.Run("ErrUsernameTaken", func(t *testing.T) {
		if _, _, err := db.AddUser(ctx, &ccpor.User{Name: "A", Role: ccpor.RoleClerk, Username: "jrivera"},
			ccpor.NewUser{Password: "correct horse battery"}); err != nil {
			t.Fatal(err)
		}
		_, _, err := db.AddUser(ctx, &ccpor.User{Name: "B", Role: ccpor.RoleJudge, Username: "JRivera"},
			ccpor.NewUser{Password: "correct horse battery"})
		if ccpor.ErrorCode(err) != ccpor.EConflict {
			t.Errorf("same username in other case: %v, want conflict", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for name, tc := range map[string]struct {
			u   ccpor.User
			opt ccpor.NewUser
		}{
			"ShortPassword":      {ccpor.User{Name: "A", Role: ccpor.RoleClerk, Username: "a"}, ccpor.NewUser{Password: "short"}},
			"PasswordNoUsername": {ccpor.User{Name: "A", Role: ccpor.RoleClerk}, ccpor.NewUser{Password: "correct horse battery"}},
			"UsernameNoPassword": {ccpor.User{Name: "A", Role: ccpor.RoleClerk, Username: "a"}, ccpor.NewUser{}},
			"BadUsername":        {ccpor.User{Name: "A", Role: ccpor.RoleClerk, Username: "a b"}, ccpor.NewUser{Password: "correct horse battery"}},
			"NoName":             {ccpor.User{Role: ccpor.RoleClerk}, ccpor.NewUser{}},
		} {
			if _, _, err := db.AddUser(ctx, &tc.u, tc.opt); ccpor.ErrorCode(err) != ccpor.EInvalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
	})
}

// TestDisableUser checks that disabling ends everything a user holds at
// once: tokens, sessions, and logging in again.
func TestDisableUser(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	u := &ccpor.User{Name: "Clerk Tran", Role: ccpor.RoleClerk, County: "Orange", Username: "ctran"}
	_, token, err := db.AddUser(ctx, u, ccpor.NewUser{Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.Login(ctx, "ctran", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.DisableUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.DisabledAt == nil || !got.DisabledAt.Equal(now) {
		t.Errorf("disabled_at = %v, want %v", got.DisabledAt, now)
	}
	if _, err := db.Authenticate(ctx, token); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
		t.Errorf("token of a disabled user: %v, want unauthorized", err)
	}
	if _, err := db.SessionUser(ctx, s.Secret); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
		t.Errorf("session of a disabled user: %v, want unauthorized", err)
	}
	if _, err := db.Login(ctx, "ctran", "correct horse battery"); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
		t.Errorf("login of a disabled user: %v, want unauthorized", err)
	}
	if _, _, err := db.CreateToken(ctx, u.ID, "", 0); ccpor.ErrorCode(err) != ccpor.EConflict {
		t.Errorf("new token for a disabled user: %v, want conflict", err)
	}
	var live int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM tokens WHERE user_id = $1 AND revoked_at IS NULL`, u.ID).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if live != 0 {
		t.Errorf("%d tokens left unrevoked", live)
	}
	list, err := db.ListUsers(ctx, ccpor.UserFilter{Username: new("CTran")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != u.ID || list[0].DisabledAt == nil || list[0].ActiveTokens != 0 {
		t.Errorf("listed %+v", list)
	}
	if _, err := db.DisableUser(ctx, 999999); ccpor.ErrorCode(err) != ccpor.ENotFound {
		t.Errorf("disabling nobody: %v, want not found", err)
	}
}

// TestMigrateTokens checks that 0006 keeps tokens issued before it
// working: a registry is built to 0005 in a schema of its own, given a
// user, then opened, which migrates it.
func TestMigrateTokens(t *testing.T) {
	ctx := context.Background()
	dbURL := storetest.MustCreateDatabase(t)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	names, _ := fs.Glob(store.Migrations, "migrations/*.sql")
	sort.Strings(names)
	for _, q := range []string{`CREATE SCHEMA old`, `SET search_path = old`,
		`CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range names {
		if name >= "migrations/0006" {
			break
		}
		sql, _ := store.Migrations.ReadFile(name)
		if _, err := conn.Exec(ctx, string(sql)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name); err != nil {
			t.Fatal(err)
		}
	}
	const token = "ccpor_issued-long-ago"
	hash := sha256.Sum256([]byte(token))
	if _, err := conn.Exec(ctx, `INSERT INTO users (name, role, token_hash, created_at) VALUES ('Old Judge', 'judge', $1, now())`, hash[:]); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", "old")
	u.RawQuery = q.Encode()
	db, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Authenticate(ctx, token)
	if err != nil {
		t.Fatalf("a token issued before 0006: %v", err)
	}
	if got.Name != "Old Judge" {
		t.Errorf("authenticated %+v", got)
	}
}

func TestSetPassword(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	u := &ccpor.User{Name: "Demo", Role: ccpor.RoleClerk, Username: "demo-clerk"}
	if _, _, err := db.AddUser(ctx, u, ccpor.NewUser{Password: "first password 123"}); err != nil {
		t.Fatal(err)
	}
	sess, err := db.Login(ctx, "demo-clerk", "first password 123")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetPassword(ctx, "demo-clerk", "second password 456"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionUser(ctx, sess.Secret); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
		t.Errorf("a session opened with the old password survived: %v", err)
	}
	if _, err := db.Login(ctx, "demo-clerk", "first password 123"); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
		t.Errorf("the old password still signs in: %v", err)
	}
	if _, err := db.Login(ctx, "demo-clerk", "second password 456"); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if err := db.SetPassword(ctx, "nobody", "third password 789"); ccpor.ErrorCode(err) != ccpor.ENotFound {
		t.Errorf("an unknown user: %v", err)
	}
	if err := db.SetPassword(ctx, "demo-clerk", "short"); ccpor.ErrorCode(err) != ccpor.EInvalid {
		t.Errorf("a short password: %v", err)
	}
}
