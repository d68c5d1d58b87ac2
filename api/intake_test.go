package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
)

func (ts *testServer) storedOrders() int {
	ts.t.Helper()
	var n int
	if err := ts.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM orders`).Scan(&n); err != nil {
		ts.t.Fatal(err)
	}
	return n
}

func (ts *testServer) mustGet(id string) ccpor.Order {
	ts.t.Helper()
	resp, body := ts.do(ccpor.RoleClerk, "GET", "/api/v1/orders/"+id, nil)
	if resp.StatusCode != http.StatusOK {
		ts.t.Fatalf("get %s: %d %s", id, resp.StatusCode, body)
	}
	var o ccpor.Order
	if err := json.Unmarshal(body, &o); err != nil {
		ts.t.Fatal(err)
	}
	return o
}

func mustJSON(t *testing.T, o *ccpor.Order) []byte {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIntakeDuplicateGuard: the same order is refused with a link to it,
// a likely duplicate with its candidates unless the clerk says why, and
// the next step of a case is linked to its predecessor.
func TestIntakeDuplicateGuard(t *testing.T) {
	ts := mustServer(t)
	elenaOnly := []ccpor.Party{adult(elena, "spouse")}
	terms := ccpor.Terms{Conduct: true, NoContact: true, StayAwayYards: 100}
	temporary := order(0, ccpor.OrderDV, ccpor.PhaseTemporary, "26FL000100", "2026-02-10", marcus, elenaOnly, terms)
	first := ts.mustCreate(string(mustJSON(t, temporary)))

	t.Run("the same order is refused with a link to it", func(t *testing.T) {
		again := *temporary
		again.CaseNumber = "26-fl-000100"
		again.Restrained = with(marcus, func(p *ccpor.Person) { p.First = "MARCUS" })
		resp, body := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", mustJSON(t, &again))
		p := mustProblem(t, resp, body, http.StatusConflict)
		if p.Type != "urn:ccpor:problem:duplicate_order" || p.ExistingOrderID != first.ID || p.ExistingOrder != "/api/v1/orders/"+first.ID {
			t.Errorf("problem = %+v", p)
		}
		if n := ts.storedOrders(); n != 1 {
			t.Errorf("%d orders stored, want 1", n)
		}
	})

	t.Run("a likely duplicate needs a reason", func(t *testing.T) {
		// The same temporary order keyed with a slip in the case number,
		// a nickname and a day-month swap in the birth date.
		slip := *temporary
		slip.CaseNumber = "26FL000101"
		slip.Restrained = with(marcus, func(p *ccpor.Person) { p.DOB = day("1988-12-04") })
		resp, body := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", mustJSON(t, &slip))
		p := mustProblem(t, resp, body, http.StatusConflict)
		if p.Type != "urn:ccpor:problem:likely_duplicate" || len(p.Candidates) != 1 || p.Candidates[0].OrderID != first.ID ||
			p.Candidates[0].Level != "match" || len(p.Candidates[0].Explanation) == 0 {
			t.Fatalf("problem = %s", body)
		}
		if n := ts.storedOrders(); n != 1 {
			t.Errorf("%d orders stored, want 1", n)
		}
		slip.OverrideReason = "Second petition filed in a separate case by the same petitioner."
		created := ts.mustCreate(string(mustJSON(t, &slip)))
		got := ts.mustGet(created.ID)
		if len(got.History) != 1 || got.History[0].Reason != slip.OverrideReason {
			t.Errorf("history = %+v, want the override reason on version 1", got.History)
		}
		trail, err := ts.db.AuditTrail(context.Background(), created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(trail) == 0 || !strings.Contains(string(trail[0].Detail), "Second petition") || !strings.Contains(string(trail[0].Detail), first.ID) {
			t.Errorf("audit = %+v, want the reason and the order it was entered over", trail)
		}
	})

	t.Run("the next step of the case is linked, not refused", func(t *testing.T) {
		after := order(0, ccpor.OrderDV, ccpor.PhaseAfterHearing, "26FL000100", "2026-03-02", marcus, elenaOnly, terms)
		created := ts.mustCreate(string(mustJSON(t, after)))
		if created.PreviousOrderID != first.ID {
			t.Errorf("previous_order_id = %q, want %s", created.PreviousOrderID, first.ID)
		}
		if !strings.Contains(strings.Join(created.Warnings, " "), "next step of case") {
			t.Errorf("warnings = %q", created.Warnings)
		}
	})

	t.Run("a predecessor that does not exist is refused", func(t *testing.T) {
		o := order(0, ccpor.OrderCH, ccpor.PhaseTemporary, "26CV000001", "2026-03-01", gary, []ccpor.Party{adult(priya, "")}, terms)
		o.PreviousOrderID = oid(99)
		resp, body := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", mustJSON(t, o))
		p := mustProblem(t, resp, body, http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Field != "previous_order_id" {
			t.Errorf("problem = %+v", p)
		}
	})
}

// TestIntakeSameInstant: two clerks entering the same order at the same
// instant get one order and one refusal naming it.
func TestIntakeSameInstant(t *testing.T) {
	ts := mustServer(t)
	o := order(0, ccpor.OrderCPO, ccpor.PhaseAfterHearing, "26CR000777", "2026-03-01", whitaker, []ccpor.Party{adult(karen, "spouse")},
		ccpor.Terms{Conduct: true, NoContact: true})
	body := mustJSON(t, o)
	const clerks = 4
	statuses := make([]int, clerks)
	bodies := make([][]byte, clerks)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range clerks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, b := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", body)
			statuses[i], bodies[i] = resp.StatusCode, b
		}()
	}
	close(start)
	wg.Wait()
	created := 0
	for i, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
			var p api.Problem
			if err := json.Unmarshal(bodies[i], &p); err != nil || p.ExistingOrderID == "" {
				t.Errorf("refusal without the existing order: %s", bodies[i])
			}
		default:
			t.Errorf("status %d: %s", s, bodies[i])
		}
	}
	if created != 1 || ts.storedOrders() != 1 {
		t.Errorf("%d created, %d stored; want one order", created, ts.storedOrders())
	}
}
