package ccpor

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/text/unicode/norm"
)

// The seed corpora are in testdata/fuzz/<FuzzName>; `go test` runs them,
// `make fuzz` looks for more.

// FuzzParseDate: a date that parses is written back exactly as given and
// survives JSON; nothing panics.
func FuzzParseDate(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			if !d.IsZero() {
				t.Fatalf("ParseDate(%q) failed but returned %v", s, d)
			}
		} else {
			if d.IsZero() {
				t.Fatalf("ParseDate(%q) = the zero Date, which means not given", s)
			}
			if d.String() != s {
				t.Fatalf("ParseDate(%q).String() = %q", s, d.String())
			}
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var back Date
			if err := json.Unmarshal(b, &back); err != nil || back != d {
				t.Fatalf("JSON round trip of %q: %v, %v", s, back, err)
			}
		}
		var j Date
		_ = j.UnmarshalJSON([]byte(s))
	})
}

// FuzzParseOrder: any bytes give an order or an EInvalid error, never a
// panic; an order that Prepare accepts has clean names and case number,
// and comes back the same through its own JSON.
func FuzzParseOrder(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseOrder(data)
		if err != nil {
			mustEInvalid(t, err)
			return
		}
		if err := o.Prepare(testNow); err != nil {
			mustEInvalid(t, err)
			return
		}
		people := []*Person{&o.Restrained}
		for i := range o.Protected {
			people = append(people, &o.Protected[i].Person)
		}
		for _, p := range people {
			for _, s := range append([]string{p.First, p.Middle, p.Last, p.Suffix}, p.Aliases...) {
				mustCleanName(t, s)
			}
		}
		if strings.ContainsFunc(o.CaseNumber, func(r rune) bool {
			return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || (unicode.Is(unicode.Pd, r) && r != '-')
		}) || CaseKey(o.CaseNumber) == "" {
			t.Fatalf("case number %+q accepted", o.CaseNumber)
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseOrder(b)
		if err != nil {
			t.Fatalf("the order's own JSON does not parse: %v\n%s", err, b)
		}
		if err := again.Prepare(testNow); err != nil {
			t.Fatalf("the order's own JSON is not valid: %v\n%s", err, b)
		}
		// Warnings say what was assumed, and the second time nothing is.
		if diff := cmp.Diff(o, again, cmpopts.IgnoreFields(Order{}, "Warnings"), cmp.AllowUnexported(Date{})); diff != "" {
			t.Fatalf("round trip changed the order (-first +second):\n%s\n%s", diff, b)
		}
	})
}

func mustEInvalid(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != EInvalid || e.Message == "" {
		t.Fatalf("error %v (%T), want an EInvalid *Error", err, err)
	}
}

func mustCleanName(t *testing.T, s string) {
	t.Helper()
	switch {
	case !utf8.ValidString(s):
		t.Fatalf("name %+q is not UTF-8", s)
	case !norm.NFC.IsNormalString(s):
		t.Fatalf("name %+q is not in NFC", s)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }):
		t.Fatalf("name %+q carries a control or formatting character", s)
	case s != strings.Join(strings.Fields(s), " "):
		t.Fatalf("name %+q has stray white space", s)
	case utf8.RuneCountInString(s) > maxNameLen:
		t.Fatalf("name %+q is longer than %d characters", s, maxNameLen)
	}
}

func TestNormalizeName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"García", "García"},
		{norm.NFD.String("García"), "García"},
		{"Sm\u200bith", "Smith"},
		{"\u200fمحمد\u200e", "محمد"},
		{"\ufeffOl\u00adsen", "Olsen"},
		{"  De\u00a0La\tCruz ", "De La Cruz"},
		{"Pa\u200dtel", "Patel"},
		{"Smi\x00th", "Smi\x00th"}, // kept, for Prepare to refuse
	} {
		if got := NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%+q) = %+q, want %+q", tt.in, got, tt.want)
		}
	}
}
