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
