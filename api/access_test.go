package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ccpor/ccpor"
)

// principal is who a request comes from in the access matrix.
type principal struct {
	name string
	user *ccpor.User // nil: anonymous
}

var principals = []principal{
	{"judge", &ccpor.User{Name: "Judge Alameda", Role: ccpor.RoleJudge, County: "Alameda"}},
	{"clerk", &ccpor.User{Name: "Clerk Alameda", Role: ccpor.RoleClerk, County: "Alameda", Division: ccpor.DivisionFamily}},
	{"juvenile clerk", &ccpor.User{Name: "Juvenile Clerk Alameda", Role: ccpor.RoleClerk, County: "Alameda", Division: ccpor.DivisionJuvenile}},
	{"other clerk", &ccpor.User{Name: "Clerk Fresno", Role: ccpor.RoleClerk, County: "Fresno", Division: ccpor.DivisionFamily}},
	{"officer", &ccpor.User{Name: "Officer", Role: ccpor.RoleOfficer}},
	{"tribal", &ccpor.User{Name: "Tribal Court", Role: ccpor.RoleTribal}},
	{"admin", &ccpor.User{Name: "Admin", Role: ccpor.RoleAdmin}},
	{"anonymous", nil},
}

// recordKinds are the kinds of order the matrix is run on: all Alameda
// County orders, each with its own restrained person.
var recordKinds = []string{"ordinary", "juvenile", "confidential minor", "sealed"}

func kindOrder(kind string, n int) *ccpor.Order {
	r := ccpor.Person{First: "Tobias", Last: fmt.Sprintf("Quillfeather%c", 'a'+n), DOB: day("1979-06-1" + fmt.Sprint(n)), Sex: "M"}
	addr := &ccpor.Address{Line1: "88 Hidden Creek Rd", City: "Fremont", State: "CA", Zip: "94536"}
	o := order(0, ccpor.OrderDV, ccpor.PhaseAfterHearing, fmt.Sprintf("26FL%06d", 900+n), "2026-02-02", r,
		[]ccpor.Party{{Person: ccpor.Person{First: "Ines", Last: "Quillfeather", Address: addr}, Relationship: "spouse"}},
		ccpor.Terms{Conduct: true, NoContact: true})
	switch kind {
	case "juvenile":
		o.Type, o.Protected[0].Minor = ccpor.OrderJV, true
		o.Protected[0].Relationship = "child"
	case "confidential minor":
		o.Protected = append(o.Protected, ccpor.Party{Person: ccpor.Person{First: "Pia", Last: "Quillfeather", DOB: day("2017-03-03")},
			Relationship: "child", Minor: true, Confidential: true})
	case "sealed":
		o.Sealed = true
	}
	return o
}

// accessMatrix is the expected answer of each principal, action and kind,
// as the README's table states it: "yes"/"no" for reads, a status for
// writes. Rows: principal; columns: kinds in recordKinds order.
var accessMatrix = map[string]map[string][4]string{
	"search": {
		"judge": {"yes", "yes", "yes", "yes"}, "clerk": {"yes", "no", "yes", "yes"}, "juvenile clerk": {"yes", "yes", "yes", "yes"},
		"other clerk": {"yes", "no", "yes", "no"}, "officer": {"yes", "yes", "yes", "no"}, "tribal": {"yes", "no", "yes", "no"},
		"admin": {"yes", "no", "yes", "no"}, "anonymous": {"401", "401", "401", "401"},
	},
	"view": {
		"judge": {"200", "200", "200", "200"}, "clerk": {"200", "404", "200", "200"}, "juvenile clerk": {"200", "200", "200", "200"},
		"other clerk": {"200", "404", "200", "404"}, "officer": {"200", "200", "200", "404"}, "tribal": {"200", "404", "200", "404"},
		"admin": {"200", "404", "200", "404"}, "anonymous": {"401", "401", "401", "401"},
	},
	// The protected person's address and the confidential minor's name.
	"view confidential": {
		"judge": {"yes", "yes", "yes", "yes"}, "clerk": {"yes", "-", "yes", "yes"}, "juvenile clerk": {"yes", "yes", "yes", "yes"},
		"other clerk": {"yes", "-", "yes", "-"}, "officer": {"no", "no", "no", "-"}, "tribal": {"no", "-", "no", "-"},
		"admin": {"no", "-", "no", "-"}, "anonymous": {"-", "-", "-", "-"},
	},
	"create": {
		"judge": {"403", "403", "403", "403"}, "clerk": {"201", "403", "201", "201"}, "juvenile clerk": {"201", "201", "201", "201"},
		"other clerk": {"403", "403", "403", "403"}, "officer": {"403", "403", "403", "403"}, "tribal": {"403", "403", "403", "403"},
		"admin": {"201", "403", "201", "403"}, "anonymous": {"401", "401", "401", "401"},
	},
	// A scan kept with the order; the confidential minor's is not a
	// redacted copy, so it is withheld from those who may not see her name.
	"view scan": {
		"judge": {"200", "200", "200", "200"}, "clerk": {"200", "404", "200", "200"}, "juvenile clerk": {"200", "200", "200", "200"},
		"other clerk": {"200", "404", "200", "404"}, "officer": {"200", "200", "403", "404"}, "tribal": {"200", "404", "403", "404"},
		"admin": {"200", "404", "403", "404"}, "anonymous": {"401", "401", "401", "401"},
	},
	// Only clerks of the issuing county add documents.
	"upload scan": {
		"judge": {"403", "403", "403", "403"}, "clerk": {"201", "404", "201", "201"}, "juvenile clerk": {"201", "201", "201", "201"},
		"other clerk": {"403", "404", "403", "404"}, "officer": {"403", "403", "403", "403"}, "tribal": {"403", "403", "403", "403"},
		"admin": {"403", "403", "403", "403"}, "anonymous": {"401", "401", "401", "401"},
	},
	// The audit trail of the order: who read or changed it.
	"audit read": {
		"judge": {"403", "403", "403", "403"}, "clerk": {"403", "403", "403", "403"}, "juvenile clerk": {"403", "403", "403", "403"},
		"other clerk": {"403", "403", "403", "403"}, "officer": {"403", "403", "403", "403"}, "tribal": {"403", "403", "403", "403"},
		"admin": {"200", "200", "200", "200"}, "anonymous": {"401", "401", "401", "401"},
	},
	"modify": {
		"judge": {"403", "403", "403", "403"}, "clerk": {"200", "404", "200", "200"}, "juvenile clerk": {"200", "200", "200", "200"},
		"other clerk": {"403", "404", "403", "404"}, "officer": {"403", "403", "403", "403"}, "tribal": {"403", "403", "403", "403"},
		"admin": {"200", "404", "200", "404"}, "anonymous": {"401", "401", "401", "401"},
	},
}

// TestAccessMatrix walks principal × action × record kind through the real
// server and compares every answer with accessMatrix.
func TestAccessMatrix(t *testing.T) {
	ts := mustServer(t)
	ctx := ccpor.NewContextWithUser(context.Background(), &ccpor.User{Name: "loader", Role: ccpor.RoleAdmin})
	tokens := map[string]string{}
	for _, p := range principals {
		if p.user == nil {
			continue
		}
		u := *p.user
		tok, err := ts.db.CreateUser(ctx, &u)
		if err != nil {
			t.Fatal(err)
		}
		tokens[p.name] = tok
	}
	stored := make([]*ccpor.Order, len(recordKinds))
	for i, kind := range recordKinds {
		o := kindOrder(kind, i)
		if err := o.Prepare(now); err != nil {
			t.Fatal(err)
		}
		if err := ts.db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		stored[i] = o
	}
	scans := make([]string, len(stored))
	for i, o := range stored {
		data := jpegOfSize(t, 4000, "scan of "+o.ID)
		d := &ccpor.Document{OrderID: o.ID, Kind: ccpor.DocSignedOrder, MediaType: "image/jpeg", Size: int64(len(data)),
			SHA256: sha256Hex(data), Pages: 1}
		if _, err := ts.db.CreateDocument(ctx, d, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		scans[i] = d.ID
	}
	if !ts.follower.Sync(ctx, 10e9) {
		t.Fatal("index did not catch up")
	}
	send := func(who, method, path string, body []byte) (int, []byte) {
		ts.tokens["matrix"] = tokens[who]
		role := ccpor.Role("matrix")
		if who == "anonymous" {
			role = ""
		}
		resp, got := ts.do(role, method, path, body)
		return resp.StatusCode, got
	}
	var table strings.Builder
	fmt.Fprintf(&table, "| action | who | %s |\n|---|---|---|---|---|---|\n", strings.Join(recordKinds, " | "))
	for _, action := range []string{"search", "view", "view confidential", "view scan", "upload scan", "create", "modify", "audit read"} {
		for pi, p := range principals {
			var row [4]string
			for i, kind := range recordKinds {
				o := stored[i]
				var got string
				switch action {
				case "search":
					body, _ := json.Marshal(map[string]any{"last": o.Restrained.Last, "first": "Tobias", "status": "any"})
					status, b := send(p.name, "POST", "/api/v1/search", body)
					got = fmt.Sprint(status)
					if status == http.StatusOK {
						got = yesNo(strings.Contains(string(b), o.ID))
					}
				case "view", "view confidential":
					status, b := send(p.name, "GET", "/api/v1/orders/"+o.ID, nil)
					got = fmt.Sprint(status)
					if action == "view confidential" {
						got = "-"
						if status == http.StatusOK {
							secret := "Hidden Creek"
							if kind == "confidential minor" {
								secret = "Pia"
							}
							got = yesNo(strings.Contains(string(b), secret))
						}
					}
				case "view scan":
					status, _ := send(p.name, "GET", "/api/v1/documents/"+scans[i], nil)
					got = fmt.Sprint(status)
				case "upload scan":
					ts.tokens["matrix"] = tokens[p.name]
					role := ccpor.Role("matrix")
					if p.name == "anonymous" {
						role = ""
					}
					resp, _ := ts.upload(role, o.ID, "scan.jpg", "image/jpeg", jpegOfSize(t, 4000, p.name+" "+o.ID), nil)
					got = fmt.Sprint(resp.StatusCode)
				case "audit read":
					status, b := send(p.name, "GET", "/api/v1/audit?order_id="+o.ID, nil)
					got = fmt.Sprint(status)
					if status == http.StatusOK && !strings.Contains(string(b), o.ID) {
						t.Errorf("the audit trail of order %s does not name it: %s", o.ID, b)
					}
				case "create":
					n := kindOrder(kind, i)
					n.CaseNumber = fmt.Sprintf("26FL%03d%03d", i, pi)
					n.Restrained.Last += strings.ReplaceAll(p.name, " ", "")
					// Access, not duplicates, is under test here.
					n.OverrideReason = "access matrix"
					body, _ := json.Marshal(n)
					status, _ := send(p.name, "POST", "/api/v1/orders", body)
					got = fmt.Sprint(status)
				case "modify":
					cur, err := ts.db.FindOrderByID(ctx, o.ID)
					if err != nil {
						t.Fatal(err)
					}
					cur.Notes = "modified by " + p.name
					raw, _ := json.Marshal(cur)
					body, _ := json.Marshal(map[string]any{"version": cur.Version, "reason": "access matrix", "order": json.RawMessage(raw)})
					status, _ := send(p.name, "POST", "/api/v1/orders/"+o.ID+"/modify", body)
					got = fmt.Sprint(status)
				}
				row[i] = got
				if want := accessMatrix[action][p.name][i]; got != want {
					t.Errorf("%s by %s on a %s order: got %s, want %s", action, p.name, kind, got, want)
				}
			}
			fmt.Fprintf(&table, "| %s | %s | %s |\n", action, p.name, strings.Join(row[:], " | "))
		}
	}
	t.Logf("access matrix as observed:\n%s", table.String())
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// TestConfidentialNeverLeaks: a confidential minor's name finds nothing for
// an officer (a hit would confirm it), and a sealed order of another court
// reaches a judge's conflict check only as a notice.
func TestConfidentialNeverLeaks(t *testing.T) {
	ts := mustServer(t)
	ctx := ccpor.NewContextWithUser(context.Background(), &ccpor.User{Name: "loader", Role: ccpor.RoleAdmin})
	minor := kindOrder("confidential minor", 2)
	sealed := kindOrder("sealed", 3)
	for _, o := range []*ccpor.Order{minor, sealed} {
		if err := o.Prepare(now); err != nil {
			t.Fatal(err)
		}
		if err := ts.db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if !ts.follower.Sync(ctx, 10e9) {
		t.Fatal("index did not catch up")
	}
	q := []byte(`{"last": "Quillfeather", "first": "Pia", "dob": "2017-03-03", "status": "any"}`)
	for role, want := range map[ccpor.Role]bool{ccpor.RoleJudge: true, ccpor.RoleOfficer: false, ccpor.RoleTribal: false} {
		resp, body := ts.do(role, "POST", "/api/v1/search", q)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", role, resp.StatusCode, body)
		}
		if got := strings.Contains(string(body), minor.ID); got != want {
			t.Errorf("%s searching the confidential minor's name: found %v, want %v\n%s", role, got, want, body)
		}
		if !want && strings.Contains(string(body), `"total":1`) {
			t.Errorf("%s: the total counts a hidden hit: %s", role, body)
		}
	}

	fresno := ccpor.User{Name: "Judge Fresno", Role: ccpor.RoleJudge, County: "Fresno"}
	tok, err := ts.db.CreateUser(ctx, &fresno)
	if err != nil {
		t.Fatal(err)
	}
	ts.tokens["fresno judge"] = tok
	proposed := kindOrder("ordinary", 3) // the sealed order's people
	proposed.County, proposed.CaseNumber = "Fresno", "26FL777777"
	resp, body := ts.do("fresno judge", "POST", "/api/v1/checks/conflicts", mustJSON(t, proposed))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("conflict check: %d %s", resp.StatusCode, body)
	}
	var res struct {
		Related   []json.RawMessage `json:"related"`
		Conflicts []json.RawMessage `json:"conflicts"`
		Notices   []string          `json:"notices"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), sealed.ID) {
		t.Errorf("the sealed order leaked into the conflict check: %s", body)
	}
	if len(res.Notices) != 1 || !strings.Contains(res.Notices[0], "Alameda County") {
		t.Errorf("notices = %q, want one naming the issuing court", res.Notices)
	}
	// The issuing court's judge sees it.
	alameda := ccpor.User{Name: "Judge Alameda", Role: ccpor.RoleJudge, County: "Alameda"}
	if ts.tokens["alameda judge"], err = ts.db.CreateUser(ctx, &alameda); err != nil {
		t.Fatal(err)
	}
	resp, body = ts.do("alameda judge", "POST", "/api/v1/checks/conflicts", mustJSON(t, proposed))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), sealed.ID) {
		t.Errorf("the issuing county's judge does not see its sealed order: %d %s", resp.StatusCode, body)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
