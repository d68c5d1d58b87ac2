package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/gin-gonic/gin"
)

// TestAdmitSearch: no more searches run at once than the server has slots
// for; the others wait their turn and are answered, and one whose client
// gives up while waiting is answered 503 without having run.
func TestAdmitSearch(t *testing.T) {
	s := NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.SearchConcurrency = 2
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(func(c *gin.Context) {
		c.Request = c.Request.WithContext(ccpor.NewContextWithUser(c.Request.Context(), &ccpor.User{ID: 1, Name: "officer", Role: ccpor.RoleOfficer}))
	})
	_, byUser := s.throttles()
	var running, most, ran atomic.Int64
	release := make(chan struct{})
	r.POST("/api/v1/search", byUser, func(c *gin.Context) {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		ran.Add(1)
		<-release
		running.Add(-1)
		c.Status(http.StatusOK)
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	var once sync.Once
	releaseAll := func() { once.Do(func() { close(release) }) }
	defer releaseAll() // before Close, which waits for the handlers

	post := func(ctx context.Context) int {
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/v1/search", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Go(func() { codes[i] = post(context.Background()) })
	}
	deadline := time.Now().Add(5 * time.Second)
	for running.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // time for a third to get in, were it let
	if n := running.Load(); n != 2 {
		t.Fatalf("%d searches running with 2 slots", n)
	}

	// A client that gives up while waiting: its request never runs.
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan int, 1)
	go func() { gaveUp <- post(ctx) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-gaveUp
	time.Sleep(200 * time.Millisecond) // for the server to see the connection closed

	releaseAll()
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("search %d answered %d", i, code)
		}
	}
	if most.Load() != 2 || ran.Load() != 6 {
		t.Errorf("at most %d ran at once (want 2), %d ran in all (want the 6 that waited)", most.Load(), ran.Load())
	}
}
