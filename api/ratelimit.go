package api

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// Rate is a token bucket: PerSecond requests a second on average, Burst at
// once.
type Rate struct {
	PerSecond float64
	Burst     int
}

// RateLimits are the request rates one user may use, by kind of request,
// and the failed authentications one client address may make. A zero Rate
// takes its default from DefaultRateLimits.
type RateLimits struct {
	// Read is GETs: an order, its versions.
	Read Rate
	// Search is searches and the duplicate and conflict checks, each a
	// query of the whole registry.
	Search Rate
	// Write is every other POST: intake and the lifecycle.
	Write Rate
	// FailedAuth counts requests refused for a missing or wrong token,
	// per client address, so tokens cannot be guessed at speed nor the
	// token table flooded. Requests with a good token never spend it, but
	// while an address is over it every request from it is refused before
	// its token is looked up: only a script, or a misconfigured client,
	// sends wrong tokens this often.
	FailedAuth Rate
}

// DefaultRateLimits are generous for people and for the systems that
// serve them (a dispatch console searching as one officer types; a
// court's case system entering a morning's orders), and tight for a
// script walking the registry: at 10 searches a second, listing every
// surname in the state takes days, and is in the audit trail.
var DefaultRateLimits = RateLimits{
	Read:       Rate{PerSecond: 20, Burst: 60},
	Search:     Rate{PerSecond: 10, Burst: 30},
	Write:      Rate{PerSecond: 5, Burst: 20},
	FailedAuth: Rate{PerSecond: 1, Burst: 10},
}

func (l RateLimits) withDefaults() RateLimits {
	d := DefaultRateLimits
	for _, p := range []struct{ r, def *Rate }{{&l.Read, &d.Read}, {&l.Search, &d.Search}, {&l.Write, &d.Write}, {&l.FailedAuth, &d.FailedAuth}} {
		if p.r.PerSecond <= 0 || p.r.Burst <= 0 {
			*p.r = *p.def
		}
	}
	return l
}

// buckets holds one token bucket per key. A bucket that has refilled is
// dropped at the next sweep: it is the same as a new one, and keeping it
// would let a stream of distinct addresses grow the map without end.
type buckets struct {
	rate  Rate
	mu    sync.Mutex
	m     map[string]*rate.Limiter
	swept time.Time
}

func newBuckets(r Rate) *buckets {
	return &buckets{rate: r, m: map[string]*rate.Limiter{}, swept: time.Now()}
}

func (b *buckets) get(key string, now time.Time) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.swept) > time.Minute {
		for k, l := range b.m {
			if l.TokensAt(now) >= float64(l.Burst()) {
				delete(b.m, k)
			}
		}
		b.swept = now
	}
	l := b.m[key]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(b.rate.PerSecond), b.rate.Burst)
		b.m[key] = l
	}
	return l
}

// retryAfter is how many whole seconds until l has a token again.
func retryAfter(l *rate.Limiter, now time.Time) int {
	missing := 1 - l.TokensAt(now)
	return max(1, int(math.Ceil(missing/float64(l.Limit()))))
}

// throttles returns the two rate-limit middlewares. byAddress runs before
// authentication and refuses an address that has failed to authenticate
// too often; byUser runs after it and holds each user to Limits. Buckets
// run on the wall clock, not s.Now, which tests pin.
func (s *Server) throttles() (byAddress, byUser gin.HandlerFunc) {
	lim := s.Limits.withDefaults()
	failed := newBuckets(lim.FailedAuth)
	classes := map[string]*buckets{"read": newBuckets(lim.Read), "search": newBuckets(lim.Search), "write": newBuckets(lim.Write)}

	byAddress = func(c *gin.Context) {
		if !strings.HasPrefix(c.Request.URL.Path, "/api/") {
			c.Next()
			return
		}
		now := time.Now()
		l := failed.get(remoteHost(c.Request), now)
		if l.TokensAt(now) < 1 {
			s.tooMany(c, retryAfter(l, now), "Too many requests without a valid token from this address.")
			return
		}
		c.Next()
		if c.Writer.Status() == http.StatusUnauthorized {
			l.AllowN(now, 1)
		}
	}
	byUser = func(c *gin.Context) {
		u := ccpor.UserFromContext(c.Request.Context())
		if u == nil {
			c.Next()
			return
		}
		class := requestClass(c)
		now := time.Now()
		l := classes[class].get(strconv.FormatInt(u.ID, 10), now)
		if !l.AllowN(now, 1) {
			r := classes[class].rate
			s.tooMany(c, retryAfter(l, now), fmt.Sprintf("Too many %s requests: at most %g a second (%d at once) for one user.", class, r.PerSecond, r.Burst))
			return
		}
		if class == "search" {
			s.admitSearch(c)
			return
		}
		c.Next()
	}
	return byAddress, byUser
}

// admitSearch runs the rest of the request once one of the server's
// search slots is free, holding it until the request is answered, or
// answers 503 when the client gives up first. A search or check holds
// about a megabyte while it runs (its candidates, their people, the
// scores) and needs the CPU for a few milliseconds: run all at once under
// overload, thousands of them shared two cores, none finished sooner, and
// the server's memory grew past 2 GiB (make bench's 600 searches/s step at
// 100,000 orders, December 2026). Waiting, a request holds only what it
// sent; the slots are handed out in arrival order.
func (s *Server) admitSearch(c *gin.Context) {
	s.searchSlotsOnce.Do(func() {
		n := s.SearchConcurrency
		if n <= 0 {
			n = 4 * runtime.GOMAXPROCS(0)
		}
		s.searchSlots = make(chan struct{}, n)
	})
	select {
	case s.searchSlots <- struct{}{}:
		defer func() { <-s.searchSlots }()
		c.Next()
	case <-c.Request.Context().Done():
		s.writeError(c, ccpor.Errorf(ccpor.EUnavailable, "Search unavailable: the server is busy; try again shortly."))
		c.Abort()
	}
}

// requestClass sorts a request into the buckets of RateLimits.
func requestClass(c *gin.Context) string {
	switch route := c.FullPath(); {
	case c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead:
		return "read"
	case route == "/api/v1/search" || strings.HasPrefix(route, "/api/v1/search/") ||
		strings.HasPrefix(route, "/api/v1/checks/") || route == "/search" || route == "/checks/conflict":
		// Searches and checks, by the API or a page (text search and
		// exports of results included), share the searches' rate.
		return "search"
	}
	return "write"
}

func (s *Server) tooMany(c *gin.Context, seconds int, detail string) {
	c.Header("Retry-After", strconv.Itoa(seconds))
	s.writeProblem(c, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("%s Retry after %d s.", detail, seconds), nil)
	c.Abort()
}

// remoteHost is the address the connection came from. Forwarding headers
// are not read: whoever sends them chooses them, and would choose a fresh
// address for every guess.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// noStore keeps answers under /api/v1 out of every cache, browser and
// proxy alike: they carry names, birth dates and orders.
func noStore(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		c.Header("Cache-Control", "no-store")
		c.Header("Pragma", "no-cache")
	}
	c.Next()
}
