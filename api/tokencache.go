package api

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/ccpor/ccpor"
)

// tokenTTL is how long a node trusts a token it has authenticated without
// asking the database again. Asking costs a round trip on every request,
// a good part of a search's budget. The price is a bounded delay on the
// other nodes: a token revoked or expired, or whose user is disabled,
// keeps working for at most tokenTTL on each node that saw it recently.
// The node that revokes or disables forgets at once (forgetUser).
const tokenTTL = 30 * time.Second

// tokenCacheMax bounds the cache. Only tokens that authenticated are kept,
// so its size is the number of active users; the bound is for safety.
const tokenCacheMax = 10000

// tokenCache remembers recently authenticated tokens by their SHA-256, so
// the tokens themselves are not kept in memory. The zero value is ready.
type tokenCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]cachedUser
	// gen counts forgetUser calls. An authentication that was asking the
	// database while a user was forgotten does not cache its answer,
	// which may predate the revocation.
	gen uint64
}

type cachedUser struct {
	user  ccpor.User
	until time.Time
}

// authenticate returns the user holding token, from the cache when it was
// authenticated less than tokenTTL ago. Failures are never cached: a new
// token works at once. The clock is the wall clock, not Server.Now, which
// tests freeze.
func (tc *tokenCache) authenticate(ctx context.Context, users ccpor.UserService, token string) (*ccpor.User, error) {
	key := sha256.Sum256([]byte(token))
	now := time.Now()
	tc.mu.Lock()
	c, ok := tc.m[key]
	gen := tc.gen
	tc.mu.Unlock()
	if ok && now.Before(c.until) {
		u := c.user // a copy: a handler may not change what other requests see
		return &u, nil
	}
	u, err := users.Authenticate(ctx, token)
	if err != nil {
		return nil, err
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.gen != gen {
		return u, nil
	}
	if tc.m == nil {
		tc.m = map[[sha256.Size]byte]cachedUser{}
	}
	if len(tc.m) >= tokenCacheMax {
		for k, c := range tc.m {
			if !now.Before(c.until) {
				delete(tc.m, k)
			}
		}
		if len(tc.m) >= tokenCacheMax {
			clear(tc.m)
		}
	}
	tc.m[key] = cachedUser{user: *u, until: now.Add(tokenTTL)}
	return u, nil
}

// forgetUser drops every cached token of a user, so that revoking one of
// its tokens or disabling it takes effect on this node at once. The
// user's other tokens are simply checked against the database again.
func (tc *tokenCache) forgetUser(id int64) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.gen++
	for k, c := range tc.m {
		if c.user.ID == id {
			delete(tc.m, k)
		}
	}
}
