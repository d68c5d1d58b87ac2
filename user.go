package ccpor

import (
	"context"
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

// User is someone who holds a bearer token.
type User struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Role   Role   `json:"role"`
	County string `json:"county,omitempty"`
	// Division is the court division a clerk or judge works in: a
	// juvenile-division clerk may see juvenile orders (WIC 827).
	Division  Division  `json:"division,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// UserService manages users and their tokens.
type UserService interface {
	// CreateUser stores the user and returns a new bearer token, shown once.
	CreateUser(ctx context.Context, u *User) (token string, err error)
	// Authenticate returns the user holding token, or EUnauthorized.
	Authenticate(ctx context.Context, token string) (*User, error)
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
