package matching

import "github.com/antzucaro/matchr"

// editBuf is how many letters a name may have for EditDistance to work in
// fixed buffers on the stack. Ranking an officer search compares a hundred
// candidates' names a few times each, and matchr's version allocates a
// matrix row by row and a map for every pair: a tenth of the ranking's
// time, and garbage for the collector. Longer names go to matchr.
const editBuf = 32

// EditDistance is the Damerau-Levenshtein distance between two folded
// names: the number of letters inserted, deleted, changed or swapped. The
// index uses it to check a fuzzy hit with the same measure as the scorer.
//
// It is matchr.DamerauLevenshtein (the unrestricted distance, after
// KevinStern's algorithm) computed without allocating: its answers are the
// same for every pair (TestEditDistanceMatchesMatchr).
func EditDistance(a, b string) int {
	var ra, rb [editBuf]rune
	na, okA := runesInto(ra[:], a)
	nb, okB := runesInto(rb[:], b)
	if !okA || !okB {
		return matchr.DamerauLevenshtein(a, b)
	}
	r1, r2 := ra[:na], rb[:nb]
	if len(r1) == 0 {
		return len(r2)
	}
	if len(r2) == 0 {
		return len(r1)
	}
	inf := len(r1) + len(r2)
	var cells [editBuf * editBuf]int32
	w := len(r2)
	m := func(i, j int) *int32 { return &cells[i*w+j] }

	// The last row each letter of r1 was seen on, for transpositions: a
	// name has few distinct letters, so a short list beats a map.
	var seenR [editBuf]rune
	var seenI [editBuf]int32
	nSeen := 0
	seen := func(r rune) (int, bool) {
		for k := 0; k < nSeen; k++ {
			if seenR[k] == r {
				return int(seenI[k]), true
			}
		}
		return 0, false
	}
	see := func(r rune, i int) {
		for k := 0; k < nSeen; k++ {
			if seenR[k] == r {
				seenI[k] = int32(i)
				return
			}
		}
		seenR[nSeen], seenI[nSeen] = r, int32(i)
		nSeen++
	}

	if r1[0] != r2[0] {
		*m(0, 0) = 1
	}
	see(r1[0], 0)
	for i := 1; i < len(r1); i++ {
		match := i + 1
		if r1[i] == r2[0] {
			match = i
		}
		*m(i, 0) = int32(min(int(*m(i-1, 0))+1, i+2, match))
	}
	for j := 1; j < len(r2); j++ {
		match := j + 1
		if r1[0] == r2[j] {
			match = j
		}
		*m(0, j) = int32(min((j+1)*2, int(*m(0, j-1))+1, match))
	}
	for i := 1; i < len(r1); i++ {
		maxSrcMatch := -1
		if r1[i] == r2[0] {
			maxSrcMatch = 0
		}
		for j := 1; j < len(r2); j++ {
			iSwap, ok := seen(r2[j])
			jSwap := maxSrcMatch
			del, ins := int(*m(i-1, j))+1, int(*m(i, j-1))+1
			match := int(*m(i-1, j-1))
			if r1[i] != r2[j] {
				match++
			} else {
				maxSrcMatch = j
			}
			swap := inf
			if ok && jSwap != -1 {
				pre := 0
				if iSwap != 0 || jSwap != 0 {
					pre = int(*m(max(0, iSwap-1), max(0, jSwap-1)))
				}
				swap = i + j + pre - iSwap - jSwap - 1
			}
			*m(i, j) = int32(min(del, ins, match, swap))
		}
		see(r1[i], i)
	}
	return int(*m(len(r1)-1, len(r2)-1))
}

// runesInto decodes s into buf and reports how many runes it holds, or
// false when s has more than buf can take.
func runesInto(buf []rune, s string) (int, bool) {
	n := 0
	for _, r := range s {
		if n == len(buf) {
			return 0, false
		}
		buf[n] = r
		n++
	}
	return n, true
}
