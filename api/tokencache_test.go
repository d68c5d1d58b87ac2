package api

import (
	"context"
	"testing"

	"github.com/ccpor/ccpor"
)

// countingUsers answers Authenticate from a function and counts the
// calls; the cache uses nothing else of the service.
type countingUsers struct {
	ccpor.UserService
	calls int
	auth  func() (*ccpor.User, error)
}

func (u *countingUsers) Authenticate(context.Context, string) (*ccpor.User, error) {
	u.calls++
	return u.auth()
}

func TestTokenCache(t *testing.T) {
	ctx := context.Background()
	var tc tokenCache
	users := &countingUsers{auth: func() (*ccpor.User, error) { return &ccpor.User{ID: 7, Role: ccpor.RoleOfficer}, nil }}
	for range 3 {
		if _, err := tc.authenticate(ctx, users, "ccpor_a"); err != nil {
			t.Fatal(err)
		}
	}
	if users.calls != 1 {
		t.Errorf("%d database calls for one token used thrice, want 1", users.calls)
	}
	t.Run("ForgetUser", func(t *testing.T) {
		tc.forgetUser(7)
		tc.authenticate(ctx, users, "ccpor_a")
		if users.calls != 2 {
			t.Errorf("a forgotten user's token was not checked again")
		}
	})
	t.Run("ForgetDuringAuthenticate", func(t *testing.T) {
		tc.forgetUser(7)
		// The answer was read before the user was disabled: it must not
		// be cached after it.
		users.auth = func() (*ccpor.User, error) {
			tc.forgetUser(7)
			return &ccpor.User{ID: 7, Role: ccpor.RoleOfficer}, nil
		}
		tc.authenticate(ctx, users, "ccpor_a")
		users.auth = func() (*ccpor.User, error) { return nil, ccpor.Errorf(ccpor.EUnauthorized, "revoked") }
		if _, err := tc.authenticate(ctx, users, "ccpor_a"); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
			t.Errorf("an answer from before the revocation was cached: %v", err)
		}
	})
	t.Run("FailuresNotCached", func(t *testing.T) {
		users.auth = func() (*ccpor.User, error) { return nil, ccpor.Errorf(ccpor.EUnauthorized, "no") }
		tc.authenticate(ctx, users, "ccpor_b")
		users.auth = func() (*ccpor.User, error) { return &ccpor.User{ID: 8}, nil }
		if _, err := tc.authenticate(ctx, users, "ccpor_b"); err != nil {
			t.Errorf("a failure was cached: %v", err)
		}
	})
}
