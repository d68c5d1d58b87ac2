package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ccpor/ccpor"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Ensure DB implements the user service.
var _ ccpor.UserService = (*DB)(nil)

// tokenPrefix marks registry tokens so a leaked one is recognisable.
const tokenPrefix = "ccpor_"

// userColumns are the columns scanUser reads, in its order.
const userColumns = `u.id, u.name, u.role, u.county, u.division, u.organisation, coalesce(u.username, ''), u.created_at, u.disabled_at`

func scanUser(row pgx.Row, extra ...any) (*ccpor.User, error) {
	var u ccpor.User
	err := row.Scan(append([]any{&u.ID, &u.Name, &u.Role, &u.County, &u.Division, &u.Organisation, &u.Username, &u.CreatedAt, &u.DisabledAt}, extra...)...)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// usernamePattern admits plain login names and e-mail addresses; nothing
// that could be confused with another name once lower-cased.
var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@+-]{0,63}$`)

// normaliseUsername is how a username is stored and looked up: login is
// not case-sensitive, so "JRivera" and "jrivera" are one user.
func normaliseUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CreateUser stores a user and returns a new bearer token of the default
// lifetime. Only a hash of the token is kept, so it is shown this once. It
// returns EInvalid for an unknown role, county or a missing name.
func (db *DB) CreateUser(ctx context.Context, u *ccpor.User) (string, error) {
	_, token, err := db.AddUser(ctx, u, ccpor.NewUser{})
	return token, err
}

// AddUser stores a user, with a password when opt has one, and returns
// its first bearer token and the token's secret. EInvalid for bad input,
// EConflict when the username is taken.
func (db *DB) AddUser(ctx context.Context, u *ccpor.User, opt ccpor.NewUser) (*ccpor.Token, string, error) {
	if err := checkUser(u, opt); err != nil {
		return nil, "", err
	}
	lifetime, err := tokenLifetime(opt.TokenLifetime)
	if err != nil {
		return nil, "", err
	}
	var hash string
	if opt.Password != "" {
		if hash, err = hashPassword(ctx, opt.Password); err != nil {
			return nil, "", err
		}
	}
	u.CreatedAt = db.Now()
	u.DisabledAt = nil
	var t *ccpor.Token
	var token string
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO users (name, role, county, division, organisation, username, password_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			u.Name, u.Role, u.County, u.Division, u.Organisation, nullable(u.Username), hash, u.CreatedAt).Scan(&u.ID)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return ccpor.Errorf(ccpor.EConflict, "The username %q is taken.", u.Username)
		} else if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		t, token, err = createToken(ctx, tx, u.ID, opt.TokenLabel, u.CreatedAt, lifetime)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return t, token, nil
}

func checkUser(u *ccpor.User, opt ccpor.NewUser) error {
	u.Name = strings.TrimSpace(u.Name)
	u.Organisation = strings.TrimSpace(u.Organisation)
	u.Username = normaliseUsername(u.Username)
	if u.Name == "" {
		return ccpor.Errorf(ccpor.EInvalid, "A user needs a name.")
	}
	if !slices.Contains(ccpor.Roles, u.Role) {
		return ccpor.Errorf(ccpor.EInvalid, "Unknown role %q: use one of judge, clerk, officer, tribal, admin.", u.Role)
	}
	if u.County != "" {
		c, ok := ccpor.CanonicalCounty(u.County)
		if !ok {
			return ccpor.Errorf(ccpor.EInvalid, "%q is not a California county.", u.County)
		}
		u.County = c
	}
	if u.Division != "" && !slices.Contains(ccpor.Divisions, u.Division) {
		return ccpor.Errorf(ccpor.EInvalid, "Unknown division %q: use one of family, criminal, civil, juvenile, probate.", u.Division)
	}
	if u.Username != "" && !usernamePattern.MatchString(u.Username) {
		return ccpor.Errorf(ccpor.EInvalid, "A username is 1 to 64 letters, digits and . _ @ + -, starting with a letter or digit.")
	}
	if (u.Username == "") != (opt.Password == "") {
		return ccpor.Errorf(ccpor.EInvalid, "A username and a password go together: give both for browser login, or neither for tokens only.")
	}
	if opt.Password != "" {
		return checkPassword(opt.Password)
	}
	return nil
}

func checkPassword(pw string) error {
	if n := utf8.RuneCountInString(pw); n < ccpor.MinPasswordLength {
		return ccpor.Errorf(ccpor.EInvalid, "A password needs at least %d characters.", ccpor.MinPasswordLength)
	}
	// argon2 takes any length; the bound keeps a request from making
	// every login hash megabytes.
	if len(pw) > 1024 {
		return ccpor.Errorf(ccpor.EInvalid, "A password may have at most 1024 bytes.")
	}
	return nil
}

func tokenLifetime(d time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return ccpor.DefaultTokenLifetime, nil
	case d < time.Minute || d > ccpor.MaxTokenLifetime:
		return 0, ccpor.Errorf(ccpor.EInvalid, "A token lives between a minute and %d days.", ccpor.MaxTokenLifetime/(24*time.Hour))
	}
	return d, nil
}

// createToken stores a new token for a user and returns it with its
// secret, which is kept only as a hash.
func createToken(ctx context.Context, tx pgx.Tx, userID int64, label string, now time.Time, lifetime time.Duration) (*ccpor.Token, string, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, "", err
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(secret)
	t := &ccpor.Token{UserID: userID, Label: strings.TrimSpace(label), CreatedAt: now, ExpiresAt: now.Add(lifetime)}
	err := tx.QueryRow(ctx, `
		INSERT INTO tokens (user_id, hash, label, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		userID, hashToken(token), t.Label, t.CreatedAt, t.ExpiresAt).Scan(&t.ID)
	if err != nil {
		return nil, "", fmt.Errorf("create token: %w", err)
	}
	return t, token, nil
}

// CreateToken gives an enabled user one more token; lifetime zero is the
// default. ENotFound for no such user, EConflict for a disabled one.
func (db *DB) CreateToken(ctx context.Context, userID int64, label string, lifetime time.Duration) (*ccpor.Token, string, error) {
	lifetime, err := tokenLifetime(lifetime)
	if err != nil {
		return nil, "", err
	}
	var t *ccpor.Token
	var token string
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var disabled *time.Time
		// FOR SHARE: a token is not born to a user being disabled.
		err := tx.QueryRow(ctx, `SELECT disabled_at FROM users WHERE id = $1 FOR SHARE`, userID).Scan(&disabled)
		if errors.Is(err, pgx.ErrNoRows) {
			return ccpor.Errorf(ccpor.ENotFound, "User %d not found.", userID)
		} else if err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		if disabled != nil {
			return ccpor.Errorf(ccpor.EConflict, "User %d is disabled.", userID)
		}
		t, token, err = createToken(ctx, tx, userID, label, db.Now(), lifetime)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return t, token, nil
}

// RevokeToken ends a token now (revoking twice keeps the first time) and
// returns it; ENotFound.
func (db *DB) RevokeToken(ctx context.Context, id int64) (*ccpor.Token, error) {
	var t ccpor.Token
	err := db.Pool.QueryRow(ctx, `
		UPDATE tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1
		RETURNING id, user_id, label, created_at, expires_at, revoked_at`, id, db.Now(),
	).Scan(&t.ID, &t.UserID, &t.Label, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ccpor.Errorf(ccpor.ENotFound, "Token %d not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("revoke token: %w", err)
	}
	return &t, nil
}

// DisableUser disables a user, revokes every token it holds and ends its
// sessions in one transaction, so no request can get in between with a
// half-disabled user. Disabling twice keeps the first time. ENotFound.
func (db *DB) DisableUser(ctx context.Context, id int64) (*ccpor.User, error) {
	now := db.Now()
	var u *ccpor.User
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `
			UPDATE users u SET disabled_at = coalesce(disabled_at, $2) WHERE id = $1
			RETURNING `+userColumns, id, now))
		if errors.Is(err, pgx.ErrNoRows) {
			return ccpor.Errorf(ccpor.ENotFound, "User %d not found.", id)
		} else if err != nil {
			return fmt.Errorf("disable user: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, id, now); err != nil {
			return fmt.Errorf("disable user: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("disable user: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ListUsers returns the users the filter selects, by id, each with the
// number of its tokens still usable.
func (db *DB) ListUsers(ctx context.Context, f ccpor.UserFilter) ([]*ccpor.UserListing, error) {
	where, args := []string{"true"}, []any{db.Now()}
	if f.ID != nil {
		args = append(args, *f.ID)
		where = append(where, fmt.Sprintf("u.id = $%d", len(args)))
	}
	if f.Username != nil {
		args = append(args, normaliseUsername(*f.Username))
		where = append(where, fmt.Sprintf("u.username = $%d", len(args)))
	}
	rows, err := db.Pool.Query(ctx, `
		SELECT `+userColumns+`,
			(SELECT count(*) FROM tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL AND t.expires_at > $1)
		FROM users u
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY u.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var list []*ccpor.UserListing
	for rows.Next() {
		var n int
		u, err := scanUser(rows, &n)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		list = append(list, &ccpor.UserListing{User: *u, ActiveTokens: n})
	}
	return list, rows.Err()
}

// Authenticate returns the enabled user holding token, or EUnauthorized
// when the token is unknown, revoked or expired.
func (db *DB) Authenticate(ctx context.Context, token string) (*ccpor.User, error) {
	u, err := scanUser(db.Pool.QueryRow(ctx, `
		SELECT `+userColumns+` FROM tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.disabled_at IS NULL`,
		hashToken(token), db.Now()))
	if errors.Is(err, pgx.ErrNoRows) {
		// One answer for every reason, so a stolen token's holder learns
		// nothing about why it failed.
		return nil, ccpor.Errorf(ccpor.EUnauthorized, "The bearer token is not valid.")
	} else if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	return u, nil
}

// hashToken is SHA-256: tokens (and session cookies) are 256 random bits,
// so a slow password hash would add latency to every request without
// adding safety.
func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// SetPassword replaces the password of the user with that username and
// ends its open sessions: whoever knew the old one is signed out. It
// returns ENotFound for an unknown or disabled username and EInvalid for
// a password the registry refuses.
func (db *DB) SetPassword(ctx context.Context, username, password string) error {
	username = normaliseUsername(username)
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := hashPassword(ctx, password)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE users SET password_hash = $2 WHERE username = $1 AND disabled_at IS NULL RETURNING id`,
			username, hash).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ccpor.Errorf(ccpor.ENotFound, "No user %q.", username)
		} else if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
		return err
	})
}
