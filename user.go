package ccpor

import (
	"context"
	"fmt"
	"time"
)

// Role is what a user may do in the registry.
type Role string

// Roles.
const (
	RoleJudge   Role = "judge"
	RoleClerk   Role = "clerk"
	RoleOfficer Role = "officer" // law enforcement
	RoleTribal  Role = "tribal"  // tribal court staff: read-only
	RoleAdmin   Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleJudge, RoleClerk, RoleOfficer, RoleTribal, RoleAdmin}

// Identity limits. A session ends after SessionIdle without a request or
// SessionLifetime after login, whichever comes first; LoginAttempts wrong
// passwords in a row lock a username for LockoutDuration.
const (
	DefaultTokenLifetime = 90 * 24 * time.Hour
	MaxTokenLifetime     = 366 * 24 * time.Hour
	SessionIdle          = 30 * time.Minute
	SessionLifetime      = 12 * time.Hour
	LoginAttempts        = 5
	LockoutDuration      = 10 * time.Minute
	// MinPasswordLength follows NIST SP 800-63B for passwords chosen by
	// their user: length, not composition rules.
	MinPasswordLength = 12
)

// User is someone who may use the registry: with bearer tokens (systems,
// scripts), a username and password (people, in a browser), or both.
type User struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Role   Role   `json:"role"`
	County string `json:"county,omitempty"`
	// Division is the court division a clerk or judge works in: a
	// juvenile-division clerk may see juvenile orders (WIC 827).
	Division Division `json:"division,omitempty"`
	// Organisation is the court or agency the user works for, e.g.
	// "Superior Court of Alameda County" or "Hayward Police Department".
	Organisation string `json:"organisation,omitempty"`
	// Username is the login name; empty for a user with tokens only.
	Username   string     `json:"username,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
}

// NewUser is what CreateUser needs beyond the user itself: the secrets a
// User never carries, and the first token's lifetime.
type NewUser struct {
	// Password is for browser login; empty for a user with tokens only.
	Password string
	// TokenLifetime is the first token's; zero for DefaultTokenLifetime.
	TokenLifetime time.Duration
	TokenLabel    string
}

// Token is a bearer token as the registry keeps it: never the secret.
type Token struct {
	ID        int64      `json:"id"`
	UserID    int64      `json:"user_id"`
	Label     string     `json:"label,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Session is a browser login. Secret, the cookie's value, is known only
// to Login's caller: the registry keeps its hash.
type Session struct {
	User      *User
	Secret    string
	CreatedAt time.Time
	ExpiresAt time.Time // the absolute end; idleness may end it sooner
}

// UserListing is a user as an administrator's list shows it.
type UserListing struct {
	User
	ActiveTokens int `json:"active_tokens"`
}

// UserFilter selects users; nil fields do not filter.
type UserFilter struct {
	ID       *int64
	Username *string
}

// LockedError is a login refused because the username is locked after
// LoginAttempts wrong passwords; Until is when it opens again.
type LockedError struct {
	Until time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("Too many failed logins: this username is locked until %s.", e.Until.UTC().Format(time.RFC3339))
}

// UserService manages users, their tokens and their sessions. Every
// method that finds nobody returns EUnauthorized (authentication) or
// ENotFound (administration); EInvalid for bad input.
type UserService interface {
	// CreateUser stores the user and returns a new bearer token, shown
	// once, of DefaultTokenLifetime.
	CreateUser(ctx context.Context, u *User) (token string, err error)
	// AddUser is CreateUser with a password and the first token's
	// lifetime, and returns the token too. EConflict when the username is
	// taken.
	AddUser(ctx context.Context, u *User, opt NewUser) (*Token, string, error)
	// Authenticate returns the user holding token, or EUnauthorized when
	// the token is unknown, revoked or expired or its user disabled.
	Authenticate(ctx context.Context, token string) (*User, error)
	// CreateToken gives a user one more token (lifetime zero for the
	// default); the secret is returned once.
	CreateToken(ctx context.Context, userID int64, label string, lifetime time.Duration) (*Token, string, error)
	// RevokeToken ends a token at once and returns it; ENotFound.
	RevokeToken(ctx context.Context, id int64) (*Token, error)
	// DisableUser disables a user, revokes its tokens and ends its
	// sessions, all at once; ENotFound.
	DisableUser(ctx context.Context, id int64) (*User, error)
	// ListUsers returns the users the filter selects, by id.
	ListUsers(ctx context.Context, f UserFilter) ([]*UserListing, error)
	// Login checks a username and password and opens a session. It
	// returns EUnauthorized, the same for every reason, or *LockedError.
	Login(ctx context.Context, username, password string) (*Session, error)
	// SessionUser returns the user of an open session and marks it used,
	// or EUnauthorized when it is unknown, idle too long or too old.
	SessionUser(ctx context.Context, secret string) (*User, error)
	// Logout ends a session; ending an unknown one is not an error.
	Logout(ctx context.Context, secret string) error
}

type userContextKey struct{}

// NewContextWithUser returns a context carrying the acting user.
func NewContextWithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userContextKey{}, u)
}

// UserFromContext returns the acting user, or nil.
func UserFromContext(ctx context.Context) *User {
	u, _ := ctx.Value(userContextKey{}).(*User)
	return u
}
