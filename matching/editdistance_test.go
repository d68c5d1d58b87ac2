package matching

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/antzucaro/matchr"
)

// The scorer's thresholds were fitted with matchr's distance: ours must
// give the same answer for every pair, transpositions across other edits
// included (a four-letter alphabet makes them common), accented letters
// and names too long for the buffers.
func TestEditDistanceMatchesMatchr(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet []rune, max int) string {
		n := rng.IntN(max + 1)
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	small, wide := []rune("abcd"), []rune("abcdefghijklmnopqrstuvwxyzéñü")
	for i := range 200000 {
		alphabet, max := small, 9
		if i%3 == 0 {
			alphabet, max = wide, 14
		}
		if i%1000 == 0 {
			max = editBuf + 8
		}
		a, b := word(alphabet, max), word(alphabet, max)
		if got, want := EditDistance(a, b), matchr.DamerauLevenshtein(a, b); got != want {
			t.Fatalf("EditDistance(%q, %q) = %d, matchr says %d", a, b, got, want)
		}
	}
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"garcia", "garcia", 0}, {"garcia", "gracia", 1}, {"nguyen", "nguyn", 1},
		{"ca", "abc", 2}, {"", "abc", 3}, {"josé", "jose", 1},
	} {
		if got := EditDistance(c.a, c.b); got != c.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func BenchmarkEditDistance(b *testing.B) {
	pairs := [][2]string{{"garcia", "gracia"}, {"hernandez", "fernandes"}, {"maria", "garc"}, {"nguyen", "ngyuen"}}
	b.Run("ours", func(b *testing.B) {
		for i := range b.N {
			p := pairs[i%len(pairs)]
			EditDistance(p[0], p[1])
		}
	})
	b.Run("matchr", func(b *testing.B) {
		for i := range b.N {
			p := pairs[i%len(pairs)]
			matchr.DamerauLevenshtein(p[0], p[1])
		}
	})
}
