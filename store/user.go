package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"github.com/ccpor/ccpor"
	"github.com/jackc/pgx/v5"
)

// Ensure DB implements the user service.
var _ ccpor.UserService = (*DB)(nil)

// tokenPrefix marks registry tokens so a leaked one is recognisable.
const tokenPrefix = "ccpor_"

// CreateUser stores a user and returns a new bearer token. Only a hash of
// the token is kept, so it is shown this once. It returns EInvalid for an
// unknown role, county or a missing name.
func (db *DB) CreateUser(ctx context.Context, u *ccpor.User) (string, error) {
	if u.Name == "" {
		return "", ccpor.Errorf(ccpor.EInvalid, "A user needs a name.")
	}
	if !slices.Contains(ccpor.Roles, u.Role) {
		return "", ccpor.Errorf(ccpor.EInvalid, "Unknown role %q: use one of judge, clerk, officer, tribal, admin.", u.Role)
	}
	if u.County != "" {
		c, ok := ccpor.CanonicalCounty(u.County)
		if !ok {
			return "", ccpor.Errorf(ccpor.EInvalid, "%q is not a California county.", u.County)
		}
		u.County = c
	}
	if u.Division != "" && !slices.Contains(ccpor.Divisions, u.Division) {
		return "", ccpor.Errorf(ccpor.EInvalid, "Unknown division %q: use one of family, criminal, civil, juvenile, probate.", u.Division)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", err
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(secret)
	u.CreatedAt = db.Now()
	err := db.Pool.QueryRow(ctx, `
		INSERT INTO users (name, role, county, division, token_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		u.Name, u.Role, u.County, u.Division, hashToken(token), u.CreatedAt).Scan(&u.ID)
	if err != nil {
		return "", fmt.Errorf("create user: %w", err)
	}
	return token, nil
}

// Authenticate returns the enabled user holding token, or EUnauthorized.
func (db *DB) Authenticate(ctx context.Context, token string) (*ccpor.User, error) {
	var u ccpor.User
	err := db.Pool.QueryRow(ctx, `
		SELECT id, name, role, county, division, created_at FROM users
		WHERE token_hash = $1 AND disabled_at IS NULL`, hashToken(token),
	).Scan(&u.ID, &u.Name, &u.Role, &u.County, &u.Division, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ccpor.Errorf(ccpor.EUnauthorized, "The bearer token is not valid.")
	} else if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	return &u, nil
}

// hashToken is SHA-256: tokens are 256 random bits, so a slow password
// hash would add latency to every request without adding safety.
func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
