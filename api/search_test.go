package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
	"github.com/ccpor/ccpor/matching"
)

type candidatesAnswer struct {
	Hits       []api.Candidate `json:"hits"`
	Candidates []api.Candidate `json:"candidates"`
	Total      int             `json:"total"`
}

func (ts *testServer) mustCreate(body string) ccpor.Order {
	ts.t.Helper()
	resp, got := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", []byte(body))
	if resp.StatusCode != http.StatusCreated {
		ts.t.Fatalf("create: %d %s", resp.StatusCode, got)
	}
	var o ccpor.Order
	if err := json.Unmarshal(got, &o); err != nil {
		ts.t.Fatal(err)
	}
	return o
}

func TestSearch(t *testing.T) {
	ts := mustServer(t)
	created := ts.mustCreate(validOrder)
	// A second order for another person with a similar surname.
	ts.mustCreate(strings.NewReplacer(`"Roberto", "last": "García López", "dob": "1984-05-07"`, `"Marisol", "last": "Garza", "dob": "1990-01-02"`,
		`25FL001234`, `25FL009999`).Replace(validOrder))

	search := func(t *testing.T, role ccpor.Role, body string) candidatesAnswer {
		t.Helper()
		resp, got := ts.do(role, "POST", "/api/v1/search", []byte(body))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("search %s: %d %s", body, resp.StatusCode, got)
		}
		var a candidatesAnswer
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	t.Run("PartialNameAndInitial", func(t *testing.T) {
		a := search(t, ccpor.RoleOfficer, `{"last": "garc", "first": "r"}`)
		if len(a.Hits) != 1 || a.Hits[0].OrderID != created.ID || a.Hits[0].Role != "restrained" {
			t.Fatalf("hits = %+v, want the García López order", a.Hits)
		}
		h := a.Hits[0]
		if h.Order == nil || !h.Order.Firearms || h.Order.Status != ccpor.StatusActive || !h.Order.Served {
			t.Errorf("status banner data = %+v", h.Order)
		}
		if len(h.Explanation) == 0 {
			t.Error("no explanation")
		}
	})
	t.Run("SoundsLikeAndDOB", func(t *testing.T) {
		a := search(t, ccpor.RoleOfficer, `{"last": "Garsia", "dob": "1984-07-05"}`)
		if len(a.Hits) == 0 || a.Hits[0].OrderID != created.ID {
			t.Fatalf("phonetic surname with day and month swapped: hits = %+v", a.Hits)
		}
	})
	t.Run("ProtectedPersonFound", func(t *testing.T) {
		a := search(t, ccpor.RoleTribal, `{"last": "garcia", "first": "sofia"}`)
		if len(a.Hits) == 0 || a.Hits[0].Role != "protected" {
			t.Fatalf("hits = %+v, want the order protecting Sofía", a.Hits)
		}
	})
	t.Run("ExpiredExcludedByDefault", func(t *testing.T) {
		if a := search(t, ccpor.RoleOfficer, `{"last": "garc", "status": "expired"}`); len(a.Hits) != 0 {
			t.Errorf("expired search found active orders: %+v", a.Hits)
		}
	})
	t.Run("ErrTooBroad", func(t *testing.T) {
		for _, body := range []string{`{"last": "g"}`, `{"last": "*"}`, `{"first": "maria"}`, `{}`, `{"county": "Alameda"}`, `{"last": "ga*"}`} {
			resp, got := ts.do(ccpor.RoleOfficer, "POST", "/api/v1/search", []byte(body))
			mustProblem(t, resp, got, http.StatusBadRequest)
		}
	})
	t.Run("ErrUnavailableWhenBehind", func(t *testing.T) {
		ts.follower.MaxLag = 1
		// Orders written straight to the store and not yet applied.
		for _, c := range []string{"1", "2", "3"} {
			o, err := ccpor.ParseOrder([]byte(strings.Replace(validOrder, "25FL001234", "X"+c, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if err := o.Prepare(now); err != nil {
				t.Fatal(err)
			}
			if err := ts.db.CreateOrder(context.Background(), o); err != nil {
				t.Fatal(err)
			}
		}
		ts.follower.Index.Close()
		resp, got := ts.do(ccpor.RoleOfficer, "POST", "/api/v1/search", []byte(`{"last": "garc"}`))
		mustProblem(t, resp, got, http.StatusServiceUnavailable)
		resp, got = ts.do("", "GET", "/readyz", nil)
		mustProblem(t, resp, got, http.StatusServiceUnavailable)
	})
}

func TestCheckDuplicates(t *testing.T) {
	ts := mustServer(t)
	created := ts.mustCreate(validOrder)
	// The same man entered in another county: nickname, accents dropped,
	// second surname dropped.
	variant := strings.NewReplacer(`"first": "Roberto", "last": "García López"`, `"first": "Beto", "last": "Garcia"`,
		`"county": "Alameda"`, `"county": "Fresno"`, "25FL001234", "F25-7788").Replace(validOrder)
	resp, got := ts.do(ccpor.RoleJudge, "POST", "/api/v1/checks/duplicates", []byte(variant))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, got)
	}
	var a candidatesAnswer
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Candidates) != 1 || a.Candidates[0].OrderID != created.ID || a.Candidates[0].Level == "" {
		t.Fatalf("candidates = %s", got)
	}
	// Both orders protect the same woman, and the clerk is told so.
	if !slices.ContainsFunc(a.Candidates[0].Explanation, func(p matching.Piece) bool {
		return p.Field == matching.FieldParty && p.Outcome == matching.Shared && p.Weight > 0
	}) {
		t.Errorf("the protected person both orders name is not in the explanation: %s", got)
	}

	// His son: same names and address, born 25 years later, Jr.
	son := strings.NewReplacer(`"first": "Roberto", "last": "García López", "dob": "1984-05-07"`,
		`"first": "Roberto", "last": "García López", "suffix": "Jr", "dob": "2007-02-11"`, "25FL001234", "26FL000001").Replace(validOrder)
	resp, got = ts.do(ccpor.RoleClerk, "POST", "/api/v1/checks/duplicates", []byte(son))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, got)
	}
	a = candidatesAnswer{}
	json.Unmarshal(got, &a)
	for _, c := range a.Candidates {
		if c.Level == "match" {
			t.Errorf("the son is called the father: %+v", c)
		}
	}

	// His twin brother, or his order with the first name keyed wrong:
	// the clerk is shown it as possible, with the reason, not told it is
	// him and not left without it.
	twin := strings.NewReplacer(`"first": "Roberto"`, `"first": "Ernesto"`, "25FL001234", "26FL000002").Replace(validOrder)
	resp, got = ts.do(ccpor.RoleClerk, "POST", "/api/v1/checks/duplicates", []byte(twin))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, got)
	}
	a = candidatesAnswer{}
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Candidates) != 1 || a.Candidates[0].OrderID != created.ID || a.Candidates[0].Level != matching.LevelPossible ||
		!slices.ContainsFunc(a.Candidates[0].Explanation, func(p matching.Piece) bool {
			return p.Field == matching.FieldRelative && strings.Contains(p.Text, "shown as possible")
		}) {
		t.Errorf("the twin is not shown as possible with the relative rule's reason: %s", got)
	}

	resp, got = ts.do(ccpor.RoleOfficer, "POST", "/api/v1/checks/duplicates", []byte(variant))
	mustProblem(t, resp, got, http.StatusForbidden)
}
