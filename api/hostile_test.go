package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ccpor/ccpor"
	"golang.org/x/text/unicode/norm"
)

// The bad-input catalogue (issue: "Hostile input"): each input goes
// through the real server, and gets either a problem+json naming what is
// wrong, with nothing stored, or a correct result. The test log lists
// every case and its answer.

// hostileOrder is validOrder with its own case number and restrained
// person, edited by edit.
func hostileOrder(t *testing.T, n int, edit func(o map[string]any)) []byte {
	t.Helper()
	var o map[string]any
	if err := json.Unmarshal([]byte(validOrder), &o); err != nil {
		t.Fatal(err)
	}
	o["case_number"] = fmt.Sprintf("26FL%06d", n)
	o["restrained"] = map[string]any{"first": firstNames[n%len(firstNames)], "last": lastNames[n%len(lastNames)],
		"dob": hostileDOB(n), "sex": "M", "race": "W"}
	if edit != nil {
		edit(o)
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hostileDOB is the restrained person's birth date in case n. Neighbouring
// cases' dates lie years and months apart: one year digit and a few weeks
// is a keying slip to the scorer.
func hostileDOB(n int) string {
	return fmt.Sprintf("19%02d-%02d-%02d", 40+7*n%50, 1+5*n%12, 1+11*n%28)
}

// edits applies each edit in turn.
func edits(es ...func(map[string]any)) func(map[string]any) {
	return func(o map[string]any) {
		for _, e := range es {
			e(o)
		}
	}
}

// Names far enough apart that no two orders of the catalogue are taken
// for duplicates.
var (
	firstNames = strings.Fields("Abel Bruno Cyrus Dmitri Ezra Felix Gideon Hector Ignatius Jasper Kwame Lorcan Magnus Nestor Oswald Percival Quincy Rufus Silas Thaddeus Ulysses Vaughn Wendell Xavier Yusuf Zebulon")
	lastNames  = strings.Fields("Abernathy Bjornstad Castellanos Drummond Eckhardt Fitzwilliam Gallagher Holloway Iwasaki Jankowski Kowalczyk Lindqvist Montgomery Nakamura Oyelaran Pemberton Quisenberry Rasmussen Szymanski Thibodeaux Umberger Villanueva Wojciechowski Xiong Yamamoto Zielinski Achterberg Blumenthal Chakraborty Delacroix Esposito Fairweather Goldschmidt Hargreaves Ingleby Jorgensen Kaczmarek Lachapelle Mcallister Nightingale Oduya Papadopoulos Quattlebaum Rutherford Stavropoulos Tennyson Underwood Vandermeer Whitfield Yarborough Zamora")
)

func restrainedName(first, last string) func(map[string]any) {
	return func(o map[string]any) {
		r := o["restrained"].(map[string]any)
		r["first"], r["last"] = first, last
	}
}

func restrainedField(k string, v any) func(map[string]any) {
	return func(o map[string]any) { o["restrained"].(map[string]any)[k] = v }
}

func field(k string, v any) func(map[string]any) {
	return func(o map[string]any) { o[k] = v }
}

// doWith is ts.do with extra request headers.
func (ts *testServer) doWith(role ccpor.Role, method, path string, body []byte, header map[string]string) (*http.Response, []byte) {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+ts.tokens[role])
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.checkSpec(req, body, resp, got)
	return resp, got
}

// spoofed are forwarding headers a client may send to pass for another
// address; none may change an answer.
var spoofed = map[string]string{
	"X-Forwarded-For":  "10.0.0.1, 127.0.0.1",
	"X-Real-IP":        "10.0.0.2",
	"Forwarded":        "for=10.0.0.3;proto=https",
	"X-Forwarded-Host": "evil.example",
}

// deep is JSON nested deeper than encoding/json's limit (10,000).
var deep = `{"notes": ` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`

// nfd is the Vietnamese name of the NFC cases, decomposed.
var nfcLast, nfcFirst = "Nguyễn", "Thị Minh Khai"

type hostileCase struct {
	name   string
	body   []byte
	header map[string]string
	status int
	// field is the field a 400 must name, when it names one.
	field string
	// want checks an accepted order as stored (read back by GET).
	want func(t *testing.T, o ccpor.Order)
}

func wantName(first, last string) func(*testing.T, ccpor.Order) {
	return func(t *testing.T, o ccpor.Order) {
		t.Helper()
		if o.Restrained.First != first || o.Restrained.Last != last {
			t.Errorf("stored name %q %q (%+q %+q), want %q %q", o.Restrained.First, o.Restrained.Last,
				o.Restrained.First, o.Restrained.Last, first, last)
		}
	}
}

func wantCase(number string) func(*testing.T, ccpor.Order) {
	return func(t *testing.T, o ccpor.Order) {
		t.Helper()
		if o.CaseNumber != number {
			t.Errorf("stored case number %q (%+q), want %q", o.CaseNumber, o.CaseNumber, number)
		}
	}
}

func TestHostileOrders(t *testing.T) {
	ts := mustServer(t)
	devanagari60 := strings.Repeat("कु", 30)
	n := 0
	o := func(edit ...func(map[string]any)) []byte {
		n++
		return hostileOrder(t, n, edits(edit...))
	}
	cases := []hostileCase{
		// Names in every script, stored as given (in NFC).
		{name: "Arabic", body: o(restrainedName("محمد", "العلي")), status: 201, want: wantName("محمد", "العلي")},
		{name: "Chinese", body: o(restrainedName("伟", "王")), status: 201, want: wantName("伟", "王")},
		{name: "Cyrillic", body: o(restrainedName("Дмитрий", "Иванов")), status: 201, want: wantName("Дмитрий", "Иванов")},
		{name: "Devanagari", body: o(restrainedName("राजेश", "कुमार")), status: 201, want: wantName("राजेश", "कुमार")},
		{name: "Devanagari60Chars180Bytes", body: o(restrainedName("अमित", devanagari60)), status: 201, want: wantName("अमित", devanagari60)},
		{name: "VietnameseNFC", body: o(restrainedName(nfcFirst, nfcLast), field("case_number", "26FL777777")), status: 201, want: wantName(nfcFirst, nfcLast)},
		{name: "VietnameseNFDStoredNFC", body: o(restrainedName(norm.NFD.String("Trần Thị"), norm.NFD.String("Hương"))), status: 201, want: wantName("Trần Thị", "Hương")},
		// The same order again, its name decomposed: the same order.
		{name: "VietnameseNFDIsTheSameOrder", body: o(restrainedName(norm.NFD.String(nfcFirst), norm.NFD.String(nfcLast)), field("case_number", "26FL777777")), status: 409},
		// Invisible characters are stripped; a name made of nothing else is missing.
		{name: "ZeroWidthSpace", body: o(restrainedName("John", "Sm\u200bith")), status: 201, want: wantName("John", "Smith")},
		{name: "ZeroWidthJoiner", body: o(restrainedName("Priya", "Pa\u200dtel")), status: 201, want: wantName("Priya", "Patel")},
		{name: "RTLMarks", body: o(restrainedName("\u200fأحمد", "حسن\u200f\u202b")), status: 201, want: wantName("أحمد", "حسن")},
		{name: "ByteOrderMarkAndSoftHyphen", body: o(restrainedName("\ufeffErik", "Ols\u00aden")), status: 201, want: wantName("Erik", "Olsen")},
		{name: "NoBreakSpaces", body: o(restrainedName("Juan\u00a0Carlos", "De\u00a0La  Cruz")), status: 201, want: wantName("Juan Carlos", "De La Cruz")},
		{name: "OnlyZeroWidth", body: o(restrainedName("\u200b\u200c", "Okafor")), status: 400, field: "restrained.first"},
		// Control characters are refused, wherever they are.
		{name: "NULInName", body: o(restrainedName("John", "Smi\x00th")), status: 400, field: "restrained.last"},
		{name: "BellInName", body: o(restrainedName("Jo\ahn", "Smith")), status: 400, field: "restrained.first"},
		{name: "EscapeInProtectedName", body: o(func(m map[string]any) {
			m["protected"].([]any)[0].(map[string]any)["last"] = "Gar\x1b[31mcía"
		}), status: 400, field: "protected[0].last"},
		{name: "NULInNotes", body: o(field("notes", "fine\x00")), status: 400, field: "notes"},
		{name: "NULInAddress", body: o(restrainedField("address", map[string]any{"line1": "1 Main\x00St"})), status: 400, field: "restrained.address.line1"},
		{name: "NULInCaseNumber", body: o(field("case_number", "26FL\x00001")), status: 400, field: "case_number"},
		{name: "NULInTerminationReason", body: o(field("terminated", map[string]any{"on": "2025-07-01", "reason": "x\x00"})), status: 400, field: "terminated.reason"},
		{name: "NewlineInNotesIsText", body: o(field("notes", "line one\nline two")), status: 201},
		{name: "NotUTF8", body: bytes.Replace(o(restrainedName("John", "GarcXa")), []byte("GarcX"), []byte("Garc\xed"), 1), status: 400},
		// Length is counted in characters, not bytes.
		{name: "Name300Chars", body: o(restrainedName("John", strings.Repeat("a", 300))), status: 400, field: "restrained.last"},
		{name: "Alias300Chars", body: o(restrainedField("aliases", []string{strings.Repeat("б", 300)})), status: 400, field: "restrained.aliases[0]"},
		{name: "NameWithoutLetters", body: o(restrainedName("John", "---")), status: 400, field: "restrained.last"},
		// Search syntax typed as a name is a name.
		{name: "BleveWildcardName", body: o(restrainedName("Ana", "García*")), status: 201, want: wantName("Ana", "García*")},
		{name: "BleveQueryName", body: o(restrainedName("+first:a", `last:"x" OR *:*`)), status: 201, want: wantName("+first:a", `last:"x" OR *:*`)},
		// Dates.
		{name: "Feb29CommonYear", body: o(field("issued_on", "2023-02-29")), status: 400},
		{name: "ZeroDate", body: o(field("issued_on", "0000-00-00")), status: 400},
		{name: "Month13", body: o(field("issued_on", "2026-13-01")), status: 400},
		{name: "UnpaddedDate", body: o(restrainedField("dob", "1990-1-2")), status: 400},
		{name: "YearZeroDOB", body: o(restrainedField("dob", "0000-01-01")), status: 400},
		{name: "ZeroTimeDOBIsNotMissing", body: o(restrainedField("dob", "0001-01-01")), status: 400},
		{name: "IssuedYear0225", body: o(field("issued_on", "0225-06-03")), status: 400, field: "issued_on"},
		{name: "DateWithTime", body: o(field("issued_on", "2025-06-03T00:00:00Z")), status: 400},
		{name: "DateAsNumber", body: o(field("issued_on", 20250603)), status: 400},
		{name: "LeapDay2024", body: o(field("issued_on", "2024-02-29")), status: 201},
		// Case numbers with odd dashes and spaces are written with "-".
		{name: "CaseEnDash", body: o(field("case_number", "26FL\u2013100001")), status: 201, want: wantCase("26FL-100001")},
		{name: "CaseEmDash", body: o(field("case_number", "26fl\u2014100002")), status: 201, want: wantCase("26FL-100002")},
		{name: "CaseNonBreakingHyphen", body: o(field("case_number", "26FL\u2011100003")), status: 201, want: wantCase("26FL-100003")},
		{name: "CaseMinusSign", body: o(field("case_number", "26FL\u2212100004")), status: 201, want: wantCase("26FL-100004")},
		{name: "CaseSpaces", body: o(field("case_number", "  26 FL\u00a0100005 ")), status: 201, want: wantCase("26 FL 100005")},
		{name: "CaseFullWidthDigits", body: o(field("case_number", "２６FL１００００６")), status: 201, want: wantCase("26FL100006")},
		{name: "CaseOnlyDashes", body: o(field("case_number", "\u2013-\u2014")), status: 400, field: "case_number"},
		// JSON shapes.
		{name: "Truncated", body: []byte(validOrder[:len(validOrder)/2]), status: 400},
		{name: "UnknownField", body: o(field("expire_at", "2027-01-01")), status: 400},
		{name: "UnknownNestedField", body: o(restrainedField("ssn", "123-45-6789")), status: 400},
		{name: "WrongTypeStay", body: o(field("terms", map[string]any{"stay_away_yards": "100"})), status: 400},
		{name: "ObjectForArray", body: o(field("protected", map[string]any{"first": "Ana", "last": "García"})), status: 400},
		{name: "ArrayForObject", body: o(field("restrained", []any{})), status: 400},
		{name: "ArrayAtTop", body: []byte("[" + validOrder + "]"), status: 400},
		{name: "DeeplyNested", body: []byte(deep), status: 400},
		{name: "TrailingObject", body: append(o(), "{}"...), status: 400},
		{name: "Null", body: []byte("null"), status: 400},
		{name: "Empty", body: nil, status: 400},
		{name: "Over1MiB", body: o(field("notes", strings.Repeat("x", 1<<20))), status: 400},
		{name: "PreviousOrderNotUUID", body: o(field("previous_order_id", "x'; DROP TABLE orders; --")), status: 400, field: "previous_order_id"},
		// Forwarding headers change nothing.
		{name: "SpoofedForwardingHeaders", body: o(restrainedName("Mei", "Lin")), header: spoofed, status: 201, want: wantName("Mei", "Lin")},
		{name: "SpoofedHeadersBadOrder", body: o(field("county", "Atlantis")), header: spoofed, status: 400, field: "county"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.storedOrders()
			resp, body := ts.doWith(ccpor.RoleClerk, "POST", "/api/v1/orders", tc.body, tc.header)
			t.Logf("catalogue: POST /orders %s → %d %.200s", tc.name, resp.StatusCode, body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			after := ts.storedOrders()
			if tc.status != http.StatusCreated {
				p := mustProblem(t, resp, body, tc.status)
				if tc.field != "" {
					mustField(t, p, tc.field)
				}
				if after != before {
					t.Errorf("refused, but %d orders stored (was %d)", after, before)
				}
				return
			}
			if after != before+1 {
				t.Errorf("%d orders stored, want %d", after, before+1)
			}
			var created ccpor.Order
			if err := json.Unmarshal(body, &created); err != nil {
				t.Fatal(err)
			}
			if tc.want != nil {
				tc.want(t, ts.mustGet(created.ID))
			}
		})
	}
}

// hostileSearches is shared by the search test: a body and what it must get.
type searchCase struct {
	name   string
	body   string
	header map[string]string
	status int
	// hits are the restrained surnames of the orders hit, exactly (in any
	// order); nil to skip, empty for none.
	hits []string
}

func TestHostileSearch(t *testing.T) {
	ts := mustServer(t)
	ts.mustCreate(validOrder) // Roberto García López, protecting Ana and Sofía García
	for i, name := range [][2]string{{"John", "Smith"}, {"Minh Khai", "Nguyễn"}, {"Дмитрий", "Иванов"}, {"伟", "王"}, {"Ana", "García*"}, {"X", `last:"x" OR *:*`}} {
		ts.mustCreate(string(hostileOrder(t, 100+i, restrainedName(name[0], name[1]))))
	}
	bad := func(name, body string) searchCase { return searchCase{name: name, body: body, status: 400} }
	cases := []searchCase{
		{name: "Plain", body: `{"last": "garcia lopez", "first": "roberto"}`, status: 200, hits: []string{"García López"}},
		{name: "NFDName", body: `{"last": "` + norm.NFD.String("Nguyễn") + `"}`, status: 200, hits: []string{"Nguyễn"}},
		{name: "ZeroWidthInName", body: `{"last": "Sm\u200bith"}`, status: 200, hits: []string{"Smith"}},
		{name: "RTLMarkInName", body: `{"last": "\u200fSmith\u200e"}`, status: 200, hits: []string{"Smith"}},
		{name: "Cyrillic", body: `{"last": "Иванов"}`, status: 200, hits: []string{"Иванов"}},
		{name: "NULInName", body: `{"last": "Smi\u0000th"}`, status: 400},
		{name: "Name300Chars", body: `{"last": "` + strings.Repeat("a", 300) + `"}`, status: 400},
		// Query syntax is inert: refused where it would be a wildcard,
		// otherwise its letters are searched as a name, and never match
		// everything.
		bad("BleveWildcard", `{"last": "García*"}`),
		bad("BleveMatchAll", `{"last": "last:\"x\" OR *:*"}`),
		bad("BleveQuestionMark", `{"last": "Sm?th"}`),
		{name: "BleveMustMustNot", body: `{"last": "+first:a -last:b"}`, status: 200, hits: []string{`last:"x" OR *:*`}},
		{name: "BleveFieldSyntax", body: `{"last": "restrained.last:smith"}`, status: 200, hits: []string{"Smith", `last:"x" OR *:*`}},
		{name: "BleveRegexp", body: `{"last": "/.*/"}`, status: 400},
		{name: "BleveBoostFuzzy", body: `{"last": "smith^5~2"}`, status: 200, hits: []string{"Smith"}},
		// Dates.
		bad("Feb29CommonYear", `{"last": "smith", "dob": "2023-02-29"}`),
		bad("ZeroDate", `{"last": "smith", "dob": "0000-00-00"}`),
		bad("Month13", `{"last": "smith", "dob": "2026-13-01"}`),
		bad("UnpaddedDate", `{"last": "smith", "dob": "1990-1-2"}`),
		bad("DOBAsNumber", `{"dob": 19900102}`),
		// JSON shapes.
		bad("Truncated", `{"last": "smi`),
		bad("UnknownField", `{"last": "smith", "ssn": "123-45-6789"}`),
		bad("WrongType", `{"last": 5}`),
		bad("ArrayAtTop", `[{"last": "smith"}]`),
		bad("ArrayForString", `{"last": ["smith"]}`),
		bad("DeeplyNested", `{"types": `+strings.Repeat("[", 10001)+strings.Repeat("]", 10001)+`}`),
		bad("TrailingData", `{"last": "smith"} {"last": "garcia"}`),
		bad("Empty", ``),
		bad("Null", `null`),
		bad("NotUTF8", "{\"last\": \"Garc\xeda\"}"),
		bad("Over1MiB", `{"last": "smith", "county": "`+strings.Repeat("x", 1<<20)+`"}`),
		bad("UnknownStatus", `{"last": "smith", "status": "everything"}`),
		bad("AgeRangeUpsideDown", `{"last": "smith", "age_min": 60, "age_max": 20}`),
		bad("HugePage", `{"last": "smith", "page": 9223372036854775807, "per_page": 9223372036854775807}`),
		{name: "NegativePage", body: `{"last": "smith", "page": -5, "per_page": -1}`, status: 200, hits: []string{"Smith"}},
		{name: "SpoofedForwardingHeaders", body: `{"last": "smith"}`, header: spoofed, status: 200, hits: []string{"Smith"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.doWith(ccpor.RoleOfficer, "POST", "/api/v1/search", []byte(tc.body), tc.header)
			t.Logf("catalogue: POST /search %s → %d %.3000s", tc.name, resp.StatusCode, body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status != http.StatusOK {
				mustProblem(t, resp, body, tc.status)
				return
			}
			if tc.hits == nil {
				return
			}
			var a struct {
				Hits []struct {
					Order struct {
						Restrained string `json:"restrained"`
					} `json:"order"`
				} `json:"hits"`
			}
			if err := json.Unmarshal(body, &a); err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, h := range a.Hits {
				got[h.Order.Restrained] = true
			}
			if len(got) != len(tc.hits) {
				t.Errorf("hits on %v, want %v", got, tc.hits)
			}
			for _, last := range tc.hits {
				found := false
				for r := range got {
					found = found || strings.HasSuffix(r, " "+last)
				}
				if !found {
					t.Errorf("no hit on %q; hits on %v", last, got)
				}
			}
		})
	}
}

// TestHostileChecks: the duplicate check (clerk) and the conflict check
// (judge) read the proposed order as intake does, and store nothing.
func TestHostileChecks(t *testing.T) {
	ts := mustServer(t)
	existing := ts.mustCreate(string(hostileOrder(t, 1, restrainedName(nfcFirst, nfcLast))))
	stored := ts.storedOrders()
	// The cases that must find the existing order name its person, however
	// written, with its birth date: each case's own birth date would make
	// the person someone else.
	person := func(given, family string) func(map[string]any) {
		return edits(restrainedName(given, family), restrainedField("dob", hostileDOB(1)))
	}
	for _, check := range []struct {
		path string
		role ccpor.Role
	}{{"/api/v1/checks/duplicates", ccpor.RoleClerk}, {"/api/v1/checks/conflicts", ccpor.RoleJudge}} {
		for _, tc := range []hostileCase{
			{name: "NFDNameFindsTheNFCOrder", body: hostileOrder(t, 2, person(norm.NFD.String(nfcFirst), norm.NFD.String(nfcLast))), status: 200},
			{name: "ZeroWidthNameFindsIt", body: hostileOrder(t, 3, person(nfcFirst, "Ngu\u200byễn")), status: 200},
			{name: "BleveQueryName", body: hostileOrder(t, 4, restrainedName("+first:a", `last:"x" OR *:*`)), status: 200},
			{name: "NULInName", body: hostileOrder(t, 5, restrainedName("A\x00", "B")), status: 400, field: "restrained.first"},
			{name: "Name300Chars", body: hostileOrder(t, 6, restrainedName("John", strings.Repeat("ж", 300))), status: 400, field: "restrained.last"},
			{name: "Feb29CommonYear", body: hostileOrder(t, 7, field("issued_on", "2023-02-29")), status: 400},
			{name: "ZeroDate", body: hostileOrder(t, 8, restrainedField("dob", "0000-00-00")), status: 400},
			{name: "Truncated", body: []byte(`{"type": "DV",`), status: 400},
			{name: "UnknownField", body: hostileOrder(t, 9, field("x", 1)), status: 400},
			{name: "ArrayAtTop", body: []byte(`[]`), status: 400},
			{name: "DeeplyNested", body: []byte(deep), status: 400},
			{name: "Over1MiB", body: hostileOrder(t, 10, field("notes", strings.Repeat("x", 1<<20))), status: 400},
			{name: "SpoofedForwardingHeaders", body: hostileOrder(t, 11, person(nfcFirst, nfcLast)), header: spoofed, status: 200},
		} {
			t.Run(strings.TrimPrefix(check.path, "/api/v1/checks/")+"/"+tc.name, func(t *testing.T) {
				resp, body := ts.doWith(check.role, "POST", check.path, tc.body, tc.header)
				t.Logf("catalogue: POST %s %s → %d %.200s", check.path, tc.name, resp.StatusCode, body)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
				}
				if tc.status != http.StatusOK {
					p := mustProblem(t, resp, body, tc.status)
					if tc.field != "" {
						mustField(t, p, tc.field)
					}
				} else if strings.Contains(tc.name, "FindsIt") || strings.Contains(tc.name, "Finds") || tc.header != nil {
					if !bytes.Contains(body, []byte(existing.ID)) {
						t.Errorf("the order of %s %s is not in the answer: %s", nfcFirst, nfcLast, body)
					}
				}
				if got := ts.storedOrders(); got != stored {
					t.Errorf("a check stored orders: %d, was %d", got, stored)
				}
			})
		}
	}
}
