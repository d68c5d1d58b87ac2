package matching

import "testing"

// TestFoldASCII checks the ASCII fast path against the general one.
func TestFoldASCII(t *testing.T) {
	for _, s := range []string{"O'Brien", "  Garcia-Lopez ", "McDONALD  jr.", "de la Cruz", "a--b", "", "  ",
		"Smith`s", "d'Angelo", "123 Main St.", "ONE,TWO", "x\ty"} {
		if got, want := foldASCII(s), foldUnicode(s); got != want {
			t.Errorf("foldASCII(%q) = %q, want %q", s, got, want)
		}
	}
}
