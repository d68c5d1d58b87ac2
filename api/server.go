// Package api is the registry's HTTP interface: gin routes, bearer-token
// authentication, audit of every read and change, errors as RFC 9457
// problem+json, Prometheus metrics and the OpenAPI document.
package api

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"sync"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/matching"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/scan"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// OpenAPI is the API's OpenAPI 3 document, served at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// maxBodyBytes caps a request body: an order is a few kilobytes.
const maxBodyBytes = 1 << 20

// Auditor records who read or changed what, and answers admins' questions
// about it; store.DB is one.
type Auditor interface {
	Audit(ctx context.Context, action, orderID string, detail any) error
	AppendAudit(ctx context.Context, e *store.AuditEntry) error
	AuditQuery(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// Server serves the API. Its services are fields so that wiring stays
// explicit (cmd/ccpor) and tests can run it on a real database.
type Server struct {
	Orders    ccpor.OrderService
	Documents ccpor.DocumentService
	// Queues serves the clerks' work queues.
	Queues Queues
	Stats  Stats // the public statistics (stats.go)
	Users  ccpor.UserService
	Audit  Auditor
	// Keys makes POSTs with an Idempotency-Key safe to retry.
	Keys IdempotencyStore
	// Limits are the request rates allowed per user (DefaultRateLimits
	// where zero); set before Handler.
	Limits RateLimits
	// SearchConcurrency caps the searches and checks running at once
	// (4 a core when zero); set before Handler. See admitSearch.
	SearchConcurrency int
	searchSlots       chan struct{}
	searchSlotsOnce   sync.Once
	// Ready reports whether the server can answer: database reachable
	// (and, later, the index caught up).
	Ready func(ctx context.Context) error
	// Scan checks, renders and reads uploaded documents with the programs
	// found on this machine; MaxDocumentBytes caps an upload
	// (DefaultMaxDocumentBytes when zero).
	Scan             scan.Tools
	MaxDocumentBytes int64
	// Index and Follower serve searches; Match scores their candidates.
	Index    *index.Index
	Follower *index.Follower
	Match    matching.Config
	Now      func() time.Time
	Logger   *slog.Logger
	// TrustedProxies are the proxies whose X-Forwarded-For is believed
	// when recording a client's address; none by default.
	TrustedProxies []netip.Prefix
	// SecureCookies marks the session cookie Secure even on plain HTTP,
	// for a server behind a proxy that terminates TLS.
	SecureCookies bool

	tokens   tokenCache // authenticated tokens, trusted for tokenTTL
	metrics  *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewServer returns a server with its metrics registered; fill in the
// service fields before calling Handler.
func NewServer(logger *slog.Logger) *Server {
	s := &Server{Now: time.Now, Logger: logger, Match: matching.DefaultConfig(), metrics: prometheus.NewRegistry()}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ccpor_http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"method", "route", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ccpor_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "route"})
	// go_gc_heap_live_bytes is the heap the last collection found in
	// use: unlike heap in use, it does not depend on where in its
	// collection cycle the process is sampled, so a leak shows as growth.
	heapLive := collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)}
	// The prior the scorer uses now: it moves with the registry's size and
	// with how often people recur in it (index.FitPrior).
	prior := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ccpor_match_prior",
		Help: "The match scorer's prior: the chance that two restrained persons picked at random are one person.",
	}, func() float64 {
		if s.Index == nil {
			return 0
		}
		return s.Index.Calibrate(s.Match).Prior
	})
	s.metrics.MustRegister(s.requests, s.latency, prior,
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(heapLive)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return s
}

// Handler returns the HTTP handler with every route.
func (s *Server) Handler() http.Handler { return s.engine() }

func (s *Server) engine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// A file in a page's form (a scan at intake) goes to a temporary file
	// past this much; the default, 32 MB, would hold whole scans in memory.
	r.MaxMultipartMemory = 1 << 20
	r.Use(s.recover, s.observe)
	byAddress, byUser := s.throttles()
	r.Use(noStore, byAddress)
	r.NoRoute(func(c *gin.Context) {
		s.writeError(c, ccpor.Errorf(ccpor.ENotFound, "No such endpoint: %s %s.", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		s.writeProblem(c, http.StatusMethodNotAllowed, "method_not_allowed", "Method "+c.Request.Method+" is not allowed here.", nil)
	})

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.wrap(s.handleReady))
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{})))
	r.GET("/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", OpenAPI) })

	// Every route's policy is in auth.go's table: authorize refuses a
	// route that has none.
	v1 := r.Group("/api/v1", s.auditRequests, s.authenticate, s.authorize)
	v1.Use(byUser)
	s.registerOrderRoutes(v1)
	s.registerExchangeRoutes(v1)
	s.registerSearchRoutes(v1)
	s.registerCheckRoutes(v1)
	s.registerLifecycleRoutes(v1)
	s.registerDocumentRoutes(v1)
	s.registerAuditRoutes(v1)
	s.registerSessionRoutes(v1)
	s.registerUserRoutes(v1)
	s.registerStatsRoutes(v1)
	s.registerUIRoutes(r)
	return r
}

func (s *Server) handleReady(c *gin.Context) error {
	if err := s.Ready(c.Request.Context()); err != nil {
		s.Logger.Warn("not ready", "err", err)
		return ccpor.Errorf(ccpor.EUnavailable, "Not ready: the database does not answer.")
	}
	if err := s.searchReady(c.Request.Context()); err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
	return nil
}

// observe records each request's latency and status, and logs it.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	elapsed := time.Since(start)
	s.requests.WithLabelValues(c.Request.Method, route, http.StatusText(status)).Inc()
	s.latency.WithLabelValues(c.Request.Method, route).Observe(elapsed.Seconds())
	// The path is logged, never the body: bodies carry names and birth
	// dates, which is why searches are POSTs.
	s.Logger.Info("request", "method", c.Request.Method, "path", c.Request.URL.Path,
		"status", status, "ms", float64(elapsed.Microseconds())/1000)
}

// recover turns a panic into a logged 500 problem.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			s.Logger.Error("panic", "panic", p, "path", c.Request.URL.Path)
			s.writeError(c, ccpor.Errorf(ccpor.EInternal, "Internal error."))
			c.Abort()
		}
	}()
	c.Next()
}
