package index

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/matching"
)

// TestStoredDocRoundTrip fills every field of a stored document, through
// reflection so that a field added to ccpor.Person later is filled too,
// and checks that the binary format gives it back: the scorer must see
// everything the order said.
func TestStoredDocRoundTrip(t *testing.T) {
	var p ccpor.Person
	n := 0
	fill(reflect.ValueOf(&p).Elem(), &n)
	p.DOB = ccpor.NewDate(1984, time.May, 7)
	want := storedDoc{
		IssuedOn:   ccpor.NewDate(2025, time.June, 3),
		ExpiresAt:  ccpor.NewDate(2028, time.June, 3),
		Terminated: ccpor.NewDate(2026, time.January, 31),
		Access:     ccpor.OrderAccess{Type: ccpor.OrderJV, County: "Kern", Sealed: true, Registered: true, ConfidentialMinors: []int{1, 3}},
		Persons: []Person{
			{Role: RoleRestrained, Person: p},
			{Role: RoleProtected, Index: 1, Person: ccpor.Person{First: "Ana", Last: "García"}},
		},
	}
	var got storedDoc
	enc := string(want.appendBinary(nil))
	if err := decodeStoredDoc(enc, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}

	// A document without who may see the order (JSON, before the
	// binary format, or version 1) is not read as one anybody may see.
	b, _ := json.Marshal(want)
	if err := decodeStoredDoc(string(b), &got); err == nil {
		t.Error("a JSON document was read")
	}
	if err := decodeStoredDoc("\x01"+enc[1:], &got); err == nil {
		t.Error("a version 1 document was read")
	}

	for i := range len(enc) {
		if err := decodeStoredDoc(enc[:i], &got); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
}

// fill sets every settable field reachable from v to a distinct non-zero
// value. Structs without exported fields (dates) are left to the caller.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(string(rune('a'+*n%26)) + "é")
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), n)
		}
		v.Set(s)
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		fill(e.Elem(), n)
		v.Set(e)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	}
}

// TestStoredPersonScoresAsEntered checks that the people a search reads
// back from the index are scored as the order entered them: every field
// the scorer weighs must survive slim. Height and weight once did not,
// and namesakes of different build were scored as one person.
func TestStoredPersonScoresAsEntered(t *testing.T) {
	p := ccpor.Person{
		First: "Darnell", Middle: "Antonio", Last: "Barnes", Suffix: "Jr",
		DOB: ccpor.NewDate(1996, time.October, 11), Sex: "M", Race: "B",
		HeightIn: 70, WeightLb: 195, Hair: "BLK", Eyes: "BRO",
		Address:     &ccpor.Address{Line1: "12532 Elm Way", City: "Torrance", State: "CA", Zip: "90501"},
		Identifiers: &ccpor.Identifiers{DL: "D1234567", CII: "A12345678"},
	}
	o := &ccpor.Order{ID: "o1", Type: ccpor.OrderDV, County: "Los Angeles", IssuedOn: ccpor.NewDate(2025, time.June, 3), Restrained: p}
	ix := tempIndex(t)
	if err := ix.Apply([]*ccpor.Order{o}, nil, 1); err != nil {
		t.Fatal(err)
	}
	hits, err := ix.Candidates(context.Background(), p, o.IssuedOn, Filter{}, CandidateCap)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || len(hits[0].Persons) != 1 {
		t.Fatalf("hits %+v, want the one order with its one person", hits)
	}
	cfg := matching.DefaultConfig()
	want := matching.Compare(p, p, cfg).Explanation
	got := matching.Compare(p, hits[0].Persons[0].Person, cfg).Explanation
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the stored person scores otherwise than the entered one:\n got %+v\nwant %+v", got, want)
	}
}
