package index_test

import (
	"context"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/index"
)

func TestSearchText(t *testing.T) {
	ctx := context.Background()
	ix, err := index.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.Outdated() {
		t.Error("a new index reports an outdated layout")
	}
	mk := func(id, county, text string) *ccpor.Order {
		return &ccpor.Order{ID: id, Type: ccpor.OrderDV, County: county, IssuedOn: ccpor.DateOf(now),
			Restrained: ccpor.Person{First: "Dale", Last: "Hurst"}, ScanText: text}
	}
	orders := []*ccpor.Order{
		mk("a", "Fresno", "SPECIAL CONDITIONS: Surrender all firearms to the Sheriff within 24 hrs"),
		mk("b", "Fresno", "Stay 100 yards from Lincoln Elementary School"),
		mk("c", "Kern", "Respondent shall not possess a firearm. No contact at school."),
		mk("d", "Kern", ""),
	}
	if err := ix.Apply(orders, nil, 4); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		text   string
		county string
		want   []string
	}{
		{"firearm", "", []string{"a", "c"}},   // stemmed: firearms and firearm meet
		{"FIREARMS", "", []string{"a", "c"}},  // case folded
		{"school", "", []string{"b", "c"}},    // one word
		{"firearm school", "", []string{"c"}}, // every word must be there
		{"school", "Fresno", []string{"b"}},   // narrowed by county
		{"sheriff:*", "", []string{"a"}},      // query syntax is only text
		{"knife", "", nil},
	} {
		hits, err := ix.SearchText(ctx, tt.text, index.Filter{County: tt.county}, 10)
		if err != nil {
			t.Fatalf("%q: %v", tt.text, err)
		}
		got := map[string]bool{}
		for _, h := range hits {
			got[h.OrderID] = true
		}
		if len(got) != len(tt.want) {
			t.Errorf("%q in %q found %v, want %v", tt.text, tt.county, got, tt.want)
			continue
		}
		for _, id := range tt.want {
			if !got[id] {
				t.Errorf("%q in %q found %v, want %v", tt.text, tt.county, got, tt.want)
			}
		}
	}
	if _, err := ix.SearchText(ctx, "   ", index.Filter{}, 10); ccpor.ErrorCode(err) != ccpor.EInvalid {
		t.Errorf("empty text search = %v, want EInvalid", err)
	}
}
