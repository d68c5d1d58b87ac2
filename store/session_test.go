package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
)

const password = "correct horse battery"

func TestLogin(t *testing.T) {
	ctx := context.Background()
	db, advance := clockDB(t)
	u := &ccpor.User{Name: "Judge Rivera", Role: ccpor.RoleJudge, Username: "jrivera"}
	if _, _, err := db.AddUser(ctx, u, ccpor.NewUser{Password: password}); err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		s, err := db.Login(ctx, " JRivera ", password)
		if err != nil {
			t.Fatal(err)
		}
		if s.User.ID != u.ID || s.Secret == "" || !s.ExpiresAt.Equal(s.CreatedAt.Add(ccpor.SessionLifetime)) {
			t.Errorf("session %+v", s)
		}
		got, err := db.SessionUser(ctx, s.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID {
			t.Errorf("session user %+v", got)
		}
		if err := db.Logout(ctx, s.Secret); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SessionUser(ctx, s.Secret); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
			t.Errorf("after logout: %v, want unauthorized", err)
		}
	})
	t.Run("ErrUniform", func(t *testing.T) {
		tokenOnly := &ccpor.User{Name: "Script", Role: ccpor.RoleOfficer}
		if _, err := db.CreateUser(ctx, tokenOnly); err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, try := range [][2]string{{"jrivera", "wrong password!"}, {"nobody", password}, {"", ""}} {
			_, err := db.Login(ctx, try[0], try[1])
			if ccpor.ErrorCode(err) != ccpor.EUnauthorized {
				t.Fatalf("login %q: %v, want unauthorized", try[0], err)
			}
			msgs = append(msgs, ccpor.ErrorMessage(err))
		}
		if msgs[0] != msgs[1] || msgs[1] != msgs[2] {
			t.Errorf("failed logins say different things: %q", msgs)
		}
		if _, err := db.Login(ctx, "jrivera", password); err != nil {
			t.Errorf("a success after one failure: %v", err)
		}
	})
	t.Run("IdleTimeout", func(t *testing.T) {
		s, err := db.Login(ctx, "jrivera", password)
		if err != nil {
			t.Fatal(err)
		}
		advance(ccpor.SessionIdle - time.Second)
		if _, err := db.SessionUser(ctx, s.Secret); err != nil {
			t.Fatalf("used within the idle timeout: %v", err)
		}
		advance(ccpor.SessionIdle - time.Second)
		if _, err := db.SessionUser(ctx, s.Secret); err != nil {
			t.Fatalf("used again within the idle timeout of the last use: %v", err)
		}
		advance(ccpor.SessionIdle)
		if _, err := db.SessionUser(ctx, s.Secret); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
			t.Errorf("idle for %v: %v, want unauthorized", ccpor.SessionIdle, err)
		}
	})
	t.Run("AbsoluteLifetime", func(t *testing.T) {
		s, err := db.Login(ctx, "jrivera", password)
		if err != nil {
			t.Fatal(err)
		}
		for lived := time.Duration(0); lived < ccpor.SessionLifetime-20*time.Minute; lived += 20 * time.Minute {
			advance(20 * time.Minute)
			if _, err := db.SessionUser(ctx, s.Secret); err != nil {
				t.Fatalf("busy session ended after %v: %v", lived, err)
			}
		}
		advance(20 * time.Minute)
		if _, err := db.SessionUser(ctx, s.Secret); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
			t.Errorf("a busy session %v old: %v, want unauthorized", ccpor.SessionLifetime, err)
		}
	})
}

// TestLockout checks the lock after LoginAttempts wrong passwords: it
// holds even against the right password, for LockoutDuration, and is kept
// in the database, so another node (another DB value) sees it.
func TestLockout(t *testing.T) {
	ctx := context.Background()
	db, advance := clockDB(t)
	if _, _, err := db.AddUser(ctx, &ccpor.User{Name: "Clerk Tran", Role: ccpor.RoleClerk, Username: "ctran"},
		ccpor.NewUser{Password: password}); err != nil {
		t.Fatal(err)
	}
	for i := range ccpor.LoginAttempts {
		if _, err := db.Login(ctx, "ctran", "not the password"); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
			t.Fatalf("failure %d: %v, want unauthorized", i+1, err)
		}
	}
	other := &store.DB{Pool: db.Pool, Now: db.Now} // another node: the same database, nothing shared in memory
	var locked *ccpor.LockedError
	if _, err := other.Login(ctx, "ctran", password); !errors.As(err, &locked) {
		t.Fatalf("right password after %d failures: %v, want locked", ccpor.LoginAttempts, err)
	}
	if got, want := locked.Until, now.Add(ccpor.LockoutDuration); !got.Equal(want) {
		t.Errorf("locked until %v, want %v", got, want)
	}
	advance(ccpor.LockoutDuration - time.Second)
	if _, err := db.Login(ctx, "ctran", password); !errors.As(err, &locked) {
		t.Fatalf("a second before the lock ends: %v, want locked", err)
	}
	advance(time.Second)
	if _, err := db.Login(ctx, "ctran", password); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	t.Run("UnknownUsername", func(t *testing.T) {
		for range ccpor.LoginAttempts {
			db.Login(ctx, "nobody", "guess")
		}
		if _, err := db.Login(ctx, "nobody", "guess"); !errors.As(err, &locked) {
			t.Errorf("unknown username after %d failures: %v, want locked like a real one", ccpor.LoginAttempts, err)
		}
	})
	t.Run("SuccessResets", func(t *testing.T) {
		for range ccpor.LoginAttempts - 1 {
			db.Login(ctx, "ctran", "not the password")
		}
		if _, err := db.Login(ctx, "ctran", password); err != nil {
			t.Fatal(err)
		}
		for range ccpor.LoginAttempts - 1 {
			db.Login(ctx, "ctran", "not the password")
		}
		if _, err := db.Login(ctx, "ctran", password); err != nil {
			t.Errorf("the count did not restart after a success: %v", err)
		}
	})
}
