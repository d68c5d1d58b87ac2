package index

import (
	"slices"
	"testing"
)

func TestTermList(t *testing.T) {
	var l termList
	l.add("fx:", "m", "|", "garcia")
	l.add("")            // empty: not a term
	l.add("fx:m|garcia") // the same term written at once
	l.add("f:", "KRS")
	l.add("fx:", "m", "|", "garcia")
	l.add("f:KRS")
	if got, want := l.strings(), []string{"fx:m|garcia", "f:KRS"}; !slices.Equal(got, want) {
		t.Fatalf("terms %q, want %q", got, want)
	}
	if got, want := l.String(), "fx:m|garcia"+termSep+"f:KRS"; got != want {
		t.Fatalf("value %q, want %q", got, want)
	}
	l.reset()
	l.add("")
	l.add("x")
	if got := l.String(); got != "x" {
		t.Fatalf("after reset %q, want %q", got, "x")
	}
	var empty termList
	if empty.strings() != nil || empty.String() != "" {
		t.Fatalf("empty list: %q", empty.strings())
	}
}

// TestAddStarts: the indexed starts of a family name are exactly the
// terms lastInitialKey asks when its first 2 to 6 letters are typed.
func TestAddStarts(t *testing.T) {
	for _, f := range []string{"li", "o", "garcia", "gonzalez", "ngô", "nguyễnthị", "abcdefg"} {
		given := []string{"maria", "ána"}
		var l termList
		addStarts(&l, f, given)
		var want []string
		r := []rune(f)
		for n := 2; n <= min(len(r), lastInitialPrefix); n++ {
			for _, g := range given {
				want = append(want, lastInitialKey(string(r[:n]), string([]rune(g)[:1])))
			}
		}
		if got := l.strings(); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", f, got, want)
		}
	}
}
