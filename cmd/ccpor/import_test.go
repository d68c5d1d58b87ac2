package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store/storetest"
	"github.com/google/go-cmp/cmp"
)

// runImport runs `ccpor import` of the file into the database at url.
func runImport(t *testing.T, url, file string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	imp := &ImportCommand{Stdout: &out, Stderr: &errOut}
	imp.db.url = url
	err = imp.Run(context.Background(), []string{"--batch", "50", file})
	return out.String(), errOut.String(), err
}

// TestRoundTripXML seeds demo orders, exports each through GET
// /api/v1/orders/{id}/export as a NIEM document, imports them, gathered
// in one document, into a second registry, and checks that GET there
// answers the same JSON as the first (apart from the history, which
// records the import). One export is also imported as it came.
func TestRoundTripXML(t *testing.T) {
	ctx := context.Background()
	srcURL, dstURL := storetest.MustCreateDatabase(t), storetest.MustCreateDatabase(t)
	src := mustOpen(t, srcURL)
	if _, err := seed(ctx, src, 11, 250, nil); err != nil {
		t.Fatal(err)
	}
	srcBase := MustServe(t, srcURL)
	srcToken := MustUser(t, srcURL, ccpor.RoleJudge)
	ids := orderIDs(t, src)

	var doc bytes.Buffer
	var single []byte
	for i, id := range ids {
		body := mustGet(t, srcBase, srcToken, "/api/v1/orders/"+id+"/export?format=niem")
		if i == 0 {
			single = body
			continue
		}
		from, to := bytes.Index(body, []byte("<j:ProtectionOrder>")), bytes.LastIndex(body, []byte("</ccpor:ProtectionOrderExchange>"))
		if i == 1 {
			doc.Write(body[:from]) // the declaration and the root's start tag
		}
		doc.Write(body[from:to])
		if i == len(ids)-1 {
			doc.Write(body[to:])
		}
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"all.xml": doc.Bytes(), "one.xml": single} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, err := runImport(t, dstURL, filepath.Join(dir, "all.xml"))
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	if got, want := stdout, "249 XML orders: 249 orders added, 0 already present, 0 bad\n"; got != want {
		t.Errorf("import said %q, want %q", got, want)
	}
	if stdout, stderr, err = runImport(t, dstURL, filepath.Join(dir, "one.xml")); err != nil || stdout != "1 XML orders: 1 orders added, 0 already present, 0 bad\n" {
		t.Errorf("importing one export: %q, %v\n%s", stdout, err, stderr)
	}
	if stdout, _, _ = runImport(t, dstURL, filepath.Join(dir, "all.xml")); stdout != "249 XML orders: 0 orders added, 249 already present, 0 bad\n" {
		t.Errorf("importing again: %q", stdout)
	}

	dstBase := MustServe(t, dstURL)
	dstToken := MustUser(t, dstURL, ccpor.RoleJudge)
	for _, id := range ids {
		want := withoutHistory(t, mustGet(t, srcBase, srcToken, "/api/v1/orders/"+id))
		got := withoutHistory(t, mustGet(t, dstBase, dstToken, "/api/v1/orders/"+id))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("order %s changed on its way through XML (-exported +imported):\n%s", id, diff)
		}
	}
}

// TestImportXML: a bad order in a document is reported with its number,
// line and element, and the others are kept; a hostile document is
// refused before anything is kept.
func TestImportXML(t *testing.T) {
	url := storetest.MustCreateDatabase(t)
	o := &ccpor.Order{Type: ccpor.OrderCH, Phase: ccpor.PhaseAfterHearing, County: "Kern", CaseNumber: "BCV-25-100001",
		IssuedOn: ccpor.NewDate(2025, 1, 10), ExpiresAt: ccpor.NewDate(2028, 1, 10),
		Restrained: ccpor.Person{First: "Dana", Last: "Whitfield"},
		Protected:  []ccpor.Party{{Person: ccpor.Person{First: "Lee", Last: "Ortiz"}}},
		Terms:      ccpor.Terms{Conduct: true, StayAwayYards: 50}}
	second, third := *o, *o
	second.CaseNumber, third.CaseNumber = "BCV-25-100002", "BCV-25-100003"
	third.ID = "00000000-0000-4000-8000-000000000003"
	data, err := ccpor.MarshalNIEM(o, &second, &third)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	at := strings.Index(doc, "BCV-25-100002")
	doc = doc[:at] + strings.Replace(doc[at:], "<ccpor:OrderTerms>", "<ccpor:OrderTerms><ccpor:PetIndicator>true</ccpor:PetIndicator>", 1)
	dir := t.TempDir()
	file := filepath.Join(dir, "orders.xml")
	if err := os.WriteFile(file, []byte("\n  "+doc), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runImport(t, url, file)
	var exit exitError
	if !errors.As(err, &exit) || exit != 2 {
		t.Errorf("import with a bad order: %v, want exit status 2", err)
	}
	if want := "3 XML orders: 2 orders added, 0 already present, 1 bad\n"; stdout != want {
		t.Errorf("summary %q, want %q", stdout, want)
	}
	if want := "order 2 (line 44): Not a valid NIEM protection order.; j:ProtectionOrder/ccpor:ProtectionOrderAugmentation/ccpor:OrderTerms/ccpor:PetIndicator: unknown element here"; !strings.Contains(stderr, want) {
		t.Errorf("report does not say %q:\n%s", want, stderr)
	}
	db := mustOpen(t, url)
	if _, err := db.FindOrderByID(context.Background(), third.ID); err != nil {
		t.Errorf("the order's own id was not kept: %v", err)
	}
	if stdout, _, _ = runImport(t, url, file); stdout != "3 XML orders: 0 orders added, 2 already present, 1 bad\n" {
		t.Errorf("re-run summary %q: an order without an id must get the same one again", stdout)
	}

	for name, tt := range map[string]struct{ doc, want string }{
		"Doctype": {`<?xml version="1.0"?>` + "\n" + `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>` + "\n" + doc[strings.Index(doc, "<ccpor:"):],
			"line 2: <!DOCTYPE lolz [<!ENTI…> refused"},
		"Deep":      {strings.Replace(doc, "<nc:PersonGivenName>Dana</nc:PersonGivenName>", strings.Repeat("<x>", 50)+strings.Repeat("</x>", 50), 1), "elements nested more than 16 deep"},
		"WrongRoot": {`<orders><order/></orders>`, "the root element is orders"},
	} {
		t.Run(name, func(t *testing.T) {
			url := storetest.MustCreateDatabase(t)
			file := filepath.Join(dir, name+".xml")
			if err := os.WriteFile(file, []byte(tt.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			stdout, _, err := runImport(t, url, file)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("import: %v, want an error saying %q", err, tt.want)
			}
			if !strings.HasPrefix(stdout, "0 XML orders: 0 orders added") {
				t.Errorf("summary %q: something was kept", stdout)
			}
			if ids := orderIDs(t, mustOpen(t, url)); len(ids) != 0 {
				t.Errorf("%d orders kept from a refused document", len(ids))
			}
		})
	}
}
