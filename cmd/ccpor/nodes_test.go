package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store/storetest"
)

// TestTwoNodes runs two servers on one database, each with its own index:
// an order entered through either is found through the other within a
// second, carried by the shared outbox and its notifications.
func TestTwoNodes(t *testing.T) {
	ctx := context.Background()
	url := storetest.MustCreateDatabase(t)
	db := mustOpen(t, url)
	if _, err := seed(ctx, db, 5, 500, nil); err != nil {
		t.Fatal(err)
	}
	nodes := []string{MustServe(t, url), MustServe(t, url)}
	clerk, err := db.CreateUser(ctx, &ccpor.User{Name: "clerk", Role: ccpor.RoleClerk, County: "Alameda", Division: ccpor.DivisionFamily})
	if err != nil {
		t.Fatal(err)
	}
	officer, err := db.CreateUser(ctx, &ccpor.User{Name: "officer", Role: ccpor.RoleOfficer})
	if err != nil {
		t.Fatal(err)
	}
	call := func(base, token, path string, body any) (int, []byte) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, got
	}
	// Both nodes answer searches before the test begins.
	for _, n := range nodes {
		deadline := time.Now().Add(30 * time.Second)
		for {
			if code, _ := call(n, officer, "/api/v1/search", map[string]string{"last": "ga"}); code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s never ready", n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	var delays []time.Duration
	for i := range 20 {
		via, other := nodes[i%2], nodes[1-i%2]
		o := testOrder(t, 900+i)
		o.Restrained.Last = fmt.Sprintf("Quennell%c%c", 'a'+i, 'a'+i*3%26)
		o.OverrideReason = "two-node test: generated people resemble each other"
		code, body := call(via, clerk, "/api/v1/orders", o)
		if code != http.StatusCreated {
			t.Fatalf("intake through %s: %d %s", via, code, body)
		}
		var created struct{ ID string }
		json.Unmarshal(body, &created)
		entered := time.Now()
		for {
			code, body := call(other, officer, "/api/v1/search", map[string]string{"last": o.Restrained.Last, "first": "Roberto"})
			if code == http.StatusOK && strings.Contains(string(body), created.ID) {
				break
			}
			if d := time.Since(entered); d > 5*time.Second {
				t.Fatalf("order %s entered through %s not found through %s after %s: %d %s", created.ID, via, other, d, code, body)
			}
			time.Sleep(5 * time.Millisecond)
		}
		delays = append(delays, time.Since(entered))
	}
	slices.Sort(delays)
	t.Logf("entered on one node, found on the other after: median %s, max %s (20 orders)", delays[len(delays)/2], delays[len(delays)-1])
	if worst := delays[len(delays)-1]; worst > time.Second {
		t.Errorf("an order took %s to become searchable on the other node, want ≤ 1 s", worst)
	}
}
