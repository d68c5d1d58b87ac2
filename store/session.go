package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane). The
// hash records them, so raising them later keeps old passwords working.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// hashing bounds the argon2 hashes computed at once: each takes
// argonMemory, and a burst of logins must not take the node's memory.
var hashing = make(chan struct{}, max(2, runtime.NumCPU()))

// dummyHash is checked against when a username is unknown, so that the
// answer takes as long as for a real one and does not tell them apart.
var dummyHash = sync.OnceValue(func() string {
	h, err := hashPassword(context.Background(), "not a password of anyone's")
	if err != nil {
		panic(err)
	}
	return h
})

// hashPassword returns the argon2id hash of pw in the PHC string format:
// $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func hashPassword(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := argonKey(ctx, pw, salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

func argonKey(ctx context.Context, pw string, salt []byte, t, m uint32, p uint8, n uint32) ([]byte, error) {
	select {
	case hashing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-hashing }()
	return argon2.IDKey([]byte(pw), salt, t, m, p, n), nil
}

// verifyPassword reports whether pw matches an argon2id PHC string; an
// empty or malformed hash (a token-only user) matches nothing.
func verifyPassword(ctx context.Context, hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, nil
	}
	var version int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, nil
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 {
		return false, nil
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, nil
	}
	got, err := argonKey(ctx, pw, salt, t, m, p, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// badLogin is the one answer to every failed login: wrong password,
// unknown or disabled user, or a user without a password alike.
func badLogin() error {
	return ccpor.Errorf(ccpor.EUnauthorized, "Wrong username or password.")
}

// Login checks a username and password and opens a session. Every attempt
// is counted before the password is checked, so that guesses sent in
// parallel cannot all slip in before the lock: LoginAttempts in a row lock
// the username for LockoutDuration (*LockedError), on every node. A
// success clears the count. Any other failure is EUnauthorized with one
// message, whatever the reason.
func (db *DB) Login(ctx context.Context, username, password string) (*ccpor.Session, error) {
	name := normaliseUsername(username)
	if name == "" || password == "" || len(name) > 256 || len(password) > 1024 {
		return nil, badLogin()
	}
	now := db.Now()
	if err := db.countAttempt(ctx, name, now); err != nil {
		return nil, err
	}
	var hash string
	u, err := scanUser(db.Pool.QueryRow(ctx, `
		SELECT `+userColumns+`, u.password_hash FROM users u
		WHERE u.username = $1 AND u.disabled_at IS NULL`, name), &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		hash = dummyHash()
	} else if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	ok, err := verifyPassword(ctx, hash, password)
	if err != nil {
		return nil, err
	}
	if !ok || u == nil {
		return nil, badLogin()
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	s := &ccpor.Session{User: u, Secret: base64.RawURLEncoding.EncodeToString(secret), CreatedAt: now,
		ExpiresAt: now.Add(ccpor.SessionLifetime)}
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE username = $1`, name); err != nil {
			return err
		}
		// Sessions that have ended are swept here, at the rare login,
		// rather than on every request.
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`,
			now, now.Add(-ccpor.SessionIdle)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at)
			VALUES ($1, $2, $3, $3, $4)`, hashToken(s.Secret), u.ID, now, s.ExpiresAt)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return s, nil
}

// countAttempt counts a login attempt against name, or refuses it with a
// *LockedError while name is locked. The attempt that reaches
// LoginAttempts sets the lock and still has its password checked: five
// wrong passwords, then the lock.
func (db *DB) countAttempt(ctx context.Context, name string, now time.Time) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		// Failures a day old are forgotten, and their rows with them,
		// so guessed names do not pile up.
		if _, err := tx.Exec(ctx, `
			DELETE FROM login_failures WHERE last_failed_at < $1 AND (locked_until IS NULL OR locked_until < $2)`,
			now.Add(-24*time.Hour), now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO login_failures (username, last_failed_at) VALUES ($1, $2)
			ON CONFLICT (username) DO NOTHING`, name, now); err != nil {
			return err
		}
		var failures int
		var locked *time.Time
		if err := tx.QueryRow(ctx, `
			SELECT failures, locked_until FROM login_failures WHERE username = $1 FOR UPDATE`, name,
		).Scan(&failures, &locked); err != nil {
			return err
		}
		if locked != nil && now.Before(*locked) {
			return &ccpor.LockedError{Until: *locked}
		}
		failures++
		locked = nil
		if failures >= ccpor.LoginAttempts {
			until := now.Add(ccpor.LockoutDuration)
			failures, locked = 0, &until
		}
		_, err := tx.Exec(ctx, `
			UPDATE login_failures SET failures = $2, locked_until = $3, last_failed_at = $4 WHERE username = $1`,
			name, failures, locked, now)
		return err
	})
}

// SessionUser returns the enabled user of a session and marks the session
// used now. EUnauthorized when the session is unknown, has been idle for
// SessionIdle, or is SessionLifetime old.
func (db *DB) SessionUser(ctx context.Context, secret string) (*ccpor.User, error) {
	now := db.Now()
	u, err := scanUser(db.Pool.QueryRow(ctx, `
		UPDATE sessions s SET last_seen_at = greatest(s.last_seen_at, $2)
		FROM users u
		WHERE s.id = $1 AND u.id = s.user_id AND u.disabled_at IS NULL
			AND s.last_seen_at > $3 AND s.expires_at > $2
		RETURNING `+userColumns, hashToken(secret), now, now.Add(-ccpor.SessionIdle)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ccpor.Errorf(ccpor.EUnauthorized, "The session has ended: log in again.")
	} else if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return u, nil
}

// Logout ends a session; an unknown or ended one is not an error.
func (db *DB) Logout(ctx context.Context, secret string) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, hashToken(secret)); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}
