package matching

import (
	_ "embed"
	"slices"
	"strings"
)

// nicknamesCSV is carltonnorthern/nicknames names.csv (Apache-2.0; see
// data/NOTICE).
//
//go:embed data/nicknames.csv
var nicknamesCSV string

// nicknamesCA is our own Spanish, Filipino and Armenian supplement.
//
//go:embed data/nicknames_ca.csv
var nicknamesCA string

// nicknames maps a folded given name to the canonical names it is a
// nickname of; a canonical name maps to itself as well.
var nicknames = loadNicknames(nicknamesCSV, nicknamesCA)

// loadNicknames reads "name1,has_nickname,name2" lines. It runs once, on
// embedded data, when the package is loaded.
func loadNicknames(files ...string) map[string][]string {
	m := map[string][]string{}
	add := func(k, v string) {
		if !slices.Contains(m[k], v) {
			m[k] = append(m[k], v)
		}
	}
	for _, f := range files {
		for line := range strings.Lines(f) {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' || strings.HasPrefix(line, "name1,") {
				continue
			}
			f := strings.Split(line, ",")
			if len(f) != 3 {
				continue
			}
			canon, nick := Fold(f[0]), Fold(f[2])
			if canon == "" || nick == "" || canon == nick {
				continue
			}
			add(canon, canon)
			add(nick, canon)
		}
	}
	for _, v := range m {
		slices.Sort(v)
	}
	return m
}

// slips maps each one-letter deletion of a name the nickname tables know
// (and the name itself) to the names it came from: a name one edit from
// a known one shares a key with it (a symmetric-deletion index), so the
// known names a misspelling may stand for are found without a scan.
var slips = loadSlips(nicknames)

func loadSlips(known map[string][]string) map[string][]string {
	m := map[string][]string{}
	for k := range known {
		if len(k) < minSlip {
			continue
		}
		for _, d := range deletions(k) {
			if !slices.Contains(m[d], k) {
				m[d] = append(m[d], k)
			}
		}
	}
	return m
}

// minSlip is the shortest name read as a misspelling of a known one: in
// shorter names one edit makes another name (Ana, Ina).
const minSlip = 5

// deletions returns s and every string one byte shorter than s.
func deletions(s string) []string {
	out := []string{s}
	for i := range len(s) {
		out = append(out, s[:i]+s[i+1:])
	}
	return out
}

// slipsOf returns the names the nickname tables know that x, a name they
// do not, is one slip from (Migyel: miguel). A name the tables know is
// taken as written: Mika is Mika, not a slip of Mike.
func slipsOf(x string) []string {
	if len(x) < minSlip || nicknames[x] != nil {
		return nil
	}
	var out []string
	add := func(known []string) {
		for _, n := range known {
			if typo(x, n) && !endings(x, n) && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	add(slips[x])
	// The deletions are looked up from one buffer: a map index by
	// string(bytes) does not allocate.
	var buf [32]byte
	if len(x) > len(buf)+1 {
		return out
	}
	for i := range len(x) {
		add(slips[string(append(append(buf[:0], x[:i]...), x[i+1:]...))])
	}
	return out
}

// endings reports whether x and n differ only by a letter at the end:
// that is how names make their feminine and other forms (Daniel,
// Daniela, Daniele), not how they are misspelt.
func endings(x, n string) bool {
	return len(x) == len(n)+1 && strings.HasPrefix(x, n) || len(n) == len(x)+1 && strings.HasPrefix(n, x)
}

// nicknameSlip reports whether a's first given name is a slip of a name
// that y is a nickname form of (Migyel, a slip of Miguel, against Mike).
func nicknameSlip(a *preparedName, y string) bool {
	for _, n := range a.slipOf {
		if nicknameEquivalent(n, y) {
			return true
		}
	}
	return false
}

// CanonicalGiven returns the canonical given names that name stands for,
// sorted: "Bob" → robert; "Al" → alan, albert, alexander, alfred, allen,
// alvin; "Chuy" → jesus. A canonical name returns itself (plus any name it
// is also a nickname of), and a name the tables do not know returns itself,
// folded. Two given names are nickname-equivalent when their canonical
// sets share a name, which works in both directions (Robert ~ Bob,
// Bob ~ Bobby).
func CanonicalGiven(name string) []string {
	f := strings.ReplaceAll(Fold(name), " ", "")
	if f == "" {
		return nil
	}
	if c, ok := nicknames[f]; ok {
		return slices.Clone(c)
	}
	return []string{f}
}

// nicknameEquivalent reports whether two folded given names share a
// canonical form.
func nicknameEquivalent(a, b string) bool {
	ca, cb := nicknames[a], nicknames[b]
	if len(ca) == 0 || len(cb) == 0 {
		return false
	}
	for _, x := range ca {
		if slices.Contains(cb, x) {
			return true
		}
	}
	return false
}
