package matching

import (
	"math"
	"sync"

	"github.com/ccpor/ccpor"
)

// Fields of the model, in the order explanations list them.
const (
	FieldGiven  = "given"  // first names, falling back on middle names
	FieldMiddle = "middle" // middle names, when both records give one
	FieldFamily = "family" // family name
	FieldOrder  = "order"  // given and family names entered the other way round
	FieldSuffix = "suffix" // Jr, Sr, II…
	FieldBirth  = "dob"    // birth date, birth year or age
	FieldSex    = "sex"
	FieldRace   = "race"
	FieldHeight = "height"
	FieldWeight = "weight"
	FieldID     = "id"     // DL, CII, FBI or SSN
	FieldStreet = "street" // address line 1
	FieldLine2  = "line2"  // address line 2
	FieldCity   = "city"
	FieldZip    = "zip"
	FieldState  = "state"
	// FieldParty weighs the other people of the two records' orders: an
	// order against the same man for the same woman (a renewal, the
	// criminal order beside the family court's, the order after an
	// emergency one) names her again.
	FieldParty = "party"
	// FieldRelative is not compared: it is the adjustment made when two
	// records look like relatives sharing a name and a home.
	FieldRelative = "relative"
)

// Outcome levels specific to some fields.
const (
	AsEntered = "as_entered" // names in the boxes they were entered in
	Swapped   = "swapped"    // given and family names exchanged
	OneSided  = "one_sided"  // a suffix on one record only
	Shared    = "shared"     // another person is named in both orders
	Apart     = "apart"      // one order names both people, as two
)

// fields lists the compared fields; index i of a comparison is fields[i].
var fields = []string{
	FieldGiven, FieldMiddle, FieldFamily, FieldOrder, FieldSuffix, FieldBirth, FieldSex,
	FieldRace, FieldHeight, FieldWeight, FieldID, FieldStreet, FieldLine2,
	FieldCity, FieldZip, FieldState, FieldParty,
}

const (
	iGiven = iota
	iMiddle
	iFamily
	iOrder
	iSuffix
	iBirth
	iSex
	iRace
	iHeight
	iWeight
	iID
	iStreet
	iLine2
	iCity
	iZip
	iState
	iParty
	numFields
)

// Levels lists, for each field, the outcome levels its comparator can
// return apart from Missing, which always weighs zero.
var Levels = map[string][]string{
	FieldGiven:  {Exact, Nickname, Phonetic, Typo, Fuzzy, Initial, Middle, NickSlip, Different},
	FieldMiddle: {Exact, Similar, Initial, Different},
	FieldFamily: {Exact, Compound, Phonetic, Typo, Fuzzy, Different},
	FieldOrder:  {AsEntered, Swapped},
	FieldSuffix: {Exact, OneSided, Different},
	FieldBirth:  {Exact, DaySwap, Typo, YearOff, Partial, Month, Within, YearSlip, Different, Distant, SameYr, AgeBand, FarOff},
	FieldSex:    {Exact, Different},
	FieldRace:   {Exact, Related, Different},
	FieldHeight: {Close, Near, Different},
	FieldWeight: {Close, Near, Different},
	FieldID:     {Exact, Typo, Different},
	FieldStreet: {Exact, Similar, Partial, Different},
	FieldLine2:  {Exact, Similar, Different},
	FieldCity:   {Exact, Similar, Different},
	FieldZip:    {Exact, Typo, Different},
	FieldState:  {Exact, Different},
	FieldParty:  {Shared, Different, Apart},
}

// Record is a person prepared for comparison: names normalised, split and
// phonetically coded once, so that one query can be compared with many
// candidates cheaply.
type Record struct {
	Person ccpor.Person
	// AsOf is the date the person's stated age refers to (the order's
	// issue date); zero when unknown.
	AsOf ccpor.Date

	names   []preparedName
	swapped []preparedName
	birth   birth
	ids     ids

	// The address is parsed when first compared with another record's:
	// an officer's search has none, and ranking prepares a hundred-odd
	// candidates a search.
	addrOnce sync.Once
	addr     address

	// parties are the other people of the record's order (see
	// WithParties), prepared when first compared.
	parties   []ccpor.Person
	partyOnce sync.Once
	partyRecs []*Record
}

// WithParties gives r the other people named in its order, with r's AsOf,
// and returns r. Two records that both have parties are compared on them
// too (FieldParty); records without, like an officer's search, are not.
func (r *Record) WithParties(others []ccpor.Person) *Record {
	r.parties = others
	return r
}

// partyRecords returns r's parties prepared for comparison.
func (r *Record) partyRecords() []*Record {
	r.partyOnce.Do(func() {
		for _, p := range r.parties {
			r.partyRecs = append(r.partyRecs, Prepare(p, r.AsOf))
		}
	})
	return r.partyRecs
}

// address returns the record's parsed address.
func (r *Record) address() *address {
	r.addrOnce.Do(func() { r.addr = addressOf(r.Person.Address) })
	return &r.addr
}

// Prepare normalises p for comparison. asOf is the date its stated age was
// estimated on, or the zero date.
func Prepare(p ccpor.Person, asOf ccpor.Date) *Record {
	return PrepareNamed(p, asOf, NamesOf(p))
}

// PrepareNamed is Prepare for a caller that has already read p's names
// (names is NamesOf(p)): ranking reads every candidate's names to see
// whether they answer the query, and prepares only those that do.
func PrepareNamed(p ccpor.Person, asOf ccpor.Date, names []Name) *Record {
	r := &Record{Person: p, AsOf: asOf, birth: birthOf(p, asOf), ids: idsOf(p)}
	for _, n := range names {
		pn := prepareName(n)
		r.names = append(r.names, pn)
		r.swapped = append(r.swapped, pn.swapped())
	}
	return r
}

// comparison is the outcome of every field for one pair of records.
type comparison struct {
	out    [numFields]string
	na, nb int    // which names (0 = primary, else alias) were aligned
	idName string // which identifier decided FieldID
	gap    int    // years between the birth years, -1 when unknown
}

// compareRecords compares every field. The other people of the orders are
// compared only when they could lift the pair to LevelPossible: a
// duplicate check scores a hundred candidates, most of them hopeless, and
// comparing their people would double its time. Below possible the score
// leaves them out, which changes no level.
func compareRecords(a, b *Record, cfg *Config) comparison {
	c := comparePeople(a, b, cfg)
	if len(a.parties) > 0 && len(b.parties) > 0 {
		if w := cfg.sum(c.total(cfg)); cfg.levelOf(w+max(0, cfg.weight(iParty, Shared))) != "" {
			c.out[iParty] = compareParties(a, b, w, cfg)
		}
	}
	return c
}

// comparePeople compares every field of the two people, leaving
// FieldParty Missing. When records have aliases, or their names may have
// been entered the wrong way round, it keeps the alignment whose name
// outcomes weigh most.
func comparePeople(a, b *Record, cfg *Config) comparison {
	var c comparison
	best := math.Inf(-1)
	for i := range a.names {
		for j := range b.names {
			for _, swap := range []bool{false, true} {
				nb, order := &b.names[j], AsEntered
				if swap {
					nb, order = &b.swapped[j], Swapped
				}
				g, f := compareGiven(&a.names[i], nb), compareFamily(&a.names[i], nb)
				if g == Missing && f == Missing {
					order = Missing
				}
				// The exchange is chosen only when it explains the names
				// strictly better; its own weight is left out of the choice so
				// that it is fitted as evidence, not assumed.
				w := cfg.weight(iGiven, g) + cfg.weight(iFamily, f)
				if w > best+1e-9 {
					best = w
					c.out[iGiven], c.out[iFamily], c.out[iOrder] = g, f, order
					c.na, c.nb = i, j
				}
			}
		}
	}
	if c.out[iOrder] != Swapped && c.out[iGiven] != Middle {
		c.out[iMiddle] = compareMiddle(&a.names[c.na], &b.names[c.nb])
	} else {
		c.out[iMiddle] = Missing
	}
	c.out[iSuffix] = compareSuffix(a.names[c.na].Suffix, b.names[c.nb].Suffix)
	if c.out[iSuffix] == Missing && (a.names[c.na].Suffix != "" || b.names[c.nb].Suffix != "") {
		c.out[iSuffix] = OneSided
	}
	c.out[iBirth] = compareBirth(a.birth, b.birth, cfg.AgeTolerance)
	c.gap = birthGap(a.birth, b.birth)
	c.out[iSex] = compareSex(a.Person.Sex, b.Person.Sex)
	c.out[iRace] = compareRace(a.Person.Race, b.Person.Race)
	c.out[iHeight] = compareHeight(a.Person.HeightIn, b.Person.HeightIn)
	c.out[iWeight] = compareWeight(a.Person.WeightLb, b.Person.WeightLb)
	c.out[iID], c.idName = compareIDs(a.ids, b.ids)
	if a.Person.Address != nil && b.Person.Address != nil {
		aa, ba := a.address(), b.address()
		c.out[iStreet] = compareStreet(*aa, *ba)
		c.out[iLine2] = compareText(aa.line2, ba.line2)
		c.out[iCity] = compareText(aa.city, ba.city)
		c.out[iZip] = compareZip(aa.zip, ba.zip)
		c.out[iState] = compareState(aa.state, ba.state)
	} else {
		// Every address comparison with an empty side is Missing.
		c.out[iStreet], c.out[iLine2], c.out[iCity], c.out[iZip], c.out[iState] = Missing, Missing, Missing, Missing, Missing
	}
	c.out[iParty] = Missing
	return c
}

// compareParties says whether one of the other people of a's order is one
// of b's: Shared when a pair of them scores a match, Different when no
// pair is even possible, and Missing when either order names nobody else
// or the best pair is only possible. A shared person becomes Apart when
// one record's person may be one of the other order's other people
// (possible or match), more surely than the two records are one person
// (w, their evidence without the parties): that order names them as two
// people, as mutual orders do (he restrained for her, she for him, their
// child protected by both). The
// parties themselves are compared without parties, so this never
// recurses.
func compareParties(a, b *Record, w float64, cfg *Config) string {
	if len(a.parties) == 0 || len(b.parties) == 0 {
		return Missing
	}
	level := Different
pairs:
	for _, x := range a.partyRecords() {
		for _, y := range b.partyRecords() {
			switch cfg.levelOf(bits(x, y, cfg)) {
			case LevelMatch:
				level = Shared
				break pairs
			case LevelPossible:
				level = Missing
			}
		}
	}
	if level != Shared {
		return level
	}
	// Apart is looked for only when a shared person would bring the two
	// together: it is what it guards against, and each look is two more
	// comparisons for every candidate of a duplicate check. When the two
	// are a match without the parties, a record matching one of the other
	// order's people too is ambiguous (a father and son of one name in one
	// order), not proof of two people.
	for _, pr := range [][2]*Record{{a, b}, {b, a}} {
		for _, y := range pr[1].partyRecords() {
			if v := bits(pr[0], y, cfg); v > w && cfg.levelOf(v) != "" && cfg.levelOf(w) != LevelMatch {
				return Apart
			}
		}
	}
	return Shared
}

// generation is the gap between birth years, in years, beyond which two
// people sharing a family name are more likely parent and child (or
// grandparent) than one person with a wrong birth date.
const generation = 15

// relative says why two records look like relatives rather than one person.
type relative struct {
	why       []string // conflicts: "first name", "birth date", "suffix", "sex", an identifier, "height"
	household bool     // they also share an address
	gap       int      // years between birth years, when that is the reason
}

// relativeOf decides whether the pair looks like relatives: a shared family
// name with a shared address, or with another person both orders name,
// and any conflict (first name, middle name, birth date, suffix, sex, an
// identifier, height) but a birth date alone under one first name, or a
// shared family name with a conflict that marks a generation (Jr against
// Sr, birth years a generation or more apart) or twins (one birth date,
// two first names) wherever they live.
func relativeOf(c *comparison) (relative, bool) {
	slip := false
	switch c.out[iFamily] {
	case Exact, Compound, Phonetic:
	case Typo, Fuzzy:
		// A family name with a slip in it is still the family's: a
		// husband and wife at one address, her surname mistyped, are
		// not one person. But a slip in the name and another first name
		// with nothing else against it is how FEBRL 4 makes duplicates,
		// so the slip asks for a second conflict.
		slip = true
	default:
		return relative{}, false
	}
	r := relative{gap: -1}
	if s := c.out[iStreet]; s == Exact || s == Similar {
		r.household = true
	}
	if c.out[iGiven] == Different {
		r.why = append(r.why, "first name")
	}
	// One day and month in years a generation apart is a son born on his
	// father's birthday, not one date half mis-keyed.
	if b := c.out[iBirth]; b == Different || b == Distant || b == FarOff || (b == Partial && c.gap >= generation) {
		r.why = append(r.why, "birth date")
		if c.gap >= generation {
			r.gap = c.gap
		}
	}
	switch c.out[iSuffix] {
	case Different:
		r.why = append(r.why, "suffix")
	case OneSided:
		// "John Smith Jr" and "John Smith" at one address are a son and
		// his father unless the birth dates put them in one generation.
		if r.household && !oneGeneration(c) {
			r.why = append(r.why, "suffix")
		}
	}
	if c.out[iSex] == Different {
		r.why = append(r.why, "sex")
	}
	// A differing number or height tells relatives apart only when the
	// birth dates do not already say one person (a keying slip is then the
	// likelier story).
	switch c.out[iBirth] {
	case Exact, DaySwap, Typo, YearOff, SameYr:
	default:
		if c.out[iID] == Different {
			r.why = append(r.why, c.idName)
		}
		if c.out[iHeight] == Different {
			r.why = append(r.why, "height")
		}
	}
	if c.out[iMiddle] == Different {
		r.why = append(r.why, "middle name")
	}
	// Twins share a birth date and a family name but not a first name.
	twins := c.out[iBirth] == Exact && c.out[iGiven] == Different
	generational := r.gap >= 0 || c.out[iSuffix] == Different || twins
	if len(r.why) == 1 && r.why[0] == "birth date" && !generational && sameFirst(c.out[iGiven]) {
		// One first name at one address with birth dates less than a
		// generation apart: siblings and twins have first names of their
		// own, and a father and son are a generation apart, so a wrong
		// birth date is the likelier story.
		return r, false
	}
	if slip && len(r.why) < 2 {
		return r, false
	}
	// Two orders for the same other person are one family's circle, as a
	// shared home is: two sisters each restrained from their mother.
	circle := c.out[iParty] == Shared
	return r, len(r.why) > 0 && (r.household || generational || circle)
}

// oneGeneration reports whether the birth evidence puts the two within a
// generation of each other: dates alike or near, or an age or a birth
// year that fits the other's date. Two parts of three agreeing do only
// when the years are less than a generation apart (a son is born on his
// father's birthday as often as on any other day).
func oneGeneration(c *comparison) bool {
	switch c.out[iBirth] {
	case Exact, DaySwap, Typo, YearOff, SameYr, AgeBand, Month, Within, YearSlip:
		return true
	case Partial:
		return c.gap < generation
	}
	return false
}

// sameFirst reports whether a first-name outcome says one name, however
// written.
func sameFirst(level string) bool {
	switch level {
	case Exact, Nickname, Phonetic, Typo, Fuzzy, NickSlip:
		return true
	}
	return false
}

// householdFields are the fields a relative living with the person would
// share; their agreement is no evidence against "a relative". The family
// name and the other people of the orders come first: relatives share
// them wherever they live (two brothers each restrained from their
// mother).
var householdFields = []int{iFamily, iParty, iStreet, iLine2, iCity, iZip, iState}

// total returns each field's weight and the weight of the relative
// adjustment, in bits.
func (c *comparison) total(cfg *Config) (per [numFields]float64, rel float64) {
	for i := range numFields {
		per[i] = cfg.weight(i, c.out[i])
	}
	// Fellegi-Sunter assumes fields agree independently, but a father and
	// son, siblings or twins agree on family name and address together.
	// Given such a conflict, those agreements cannot tell the person from
	// a relative, so their positive weight is taken back and the decision
	// rests on first name, birth date, suffix and sex. Housemates agree on
	// the address alone, and lose it the same way.
	// ZIP, city and state nest: two records in one ZIP code are in one
	// city and state whoever they are, so only the most specific agreement
	// counts.
	switch {
	case agrees(c.out[iZip]):
		per[iCity], per[iState] = min(per[iCity], 0), min(per[iState], 0)
	case agrees(c.out[iCity]):
		per[iState] = min(per[iState], 0)
	}
	shared, _ := c.adjustment(cfg)
	for _, i := range shared {
		if per[i] > 0 {
			rel -= per[i]
		}
	}
	return per, rel
}

// Outcomes of the adjustment piece of an explanation.
const (
	likelyRelative  = "likely_relative"
	likelyHousemate = "likely_housemate"
)

// adjustment decides which shared agreements weigh nothing for this pair:
// the family name, and the home when they share it, of two relatives; the
// home of two housemates. outcome names the adjustment for the
// explanation, empty when none applies. total and CompareRecords both ask
// here, so the weight and the sentence cannot disagree.
func (c *comparison) adjustment(cfg *Config) (shared []int, outcome string) {
	if r, ok := relativeOf(c); ok && !cfg.IgnoreRelatives {
		if r.household {
			return householdFields, likelyRelative
		}
		return householdFields[:2], likelyRelative
	}
	if housemate(c) {
		return householdFields[2:], likelyHousemate
	}
	return nil, ""
}

// housemate reports whether the pair shares an address and nothing else
// of a person: no name in common, and a different sex or no birth date
// that agrees (they differ, or one is unknown). That is a partner, a
// lodger, or a parent and the child who bears the other parent's name,
// and an address agreement (a street and a flat together, 33 bits)
// outweighs the two names, the sex and the birth date. Different names
// alone are not enough: FEBRL 4 replaces both names of some of its
// duplicates, which then keep their address, birth date and sex; 21 of
// its true pairs were lost when the rule asked for no more.
func housemate(c *comparison) bool {
	s := c.out[iStreet]
	if !(s == Exact || s == Similar) || c.out[iGiven] != Different || c.out[iFamily] != Different {
		return false
	}
	switch c.out[iBirth] {
	case Different, Distant, FarOff, Missing:
		return true
	}
	return c.out[iSex] == Different
}

// agrees reports whether a place level is an agreement.
func agrees(level string) bool { return level == Exact || level == Similar || level == Typo }

// Result is the verdict on one pair of records.
type Result struct {
	// Score is the probability in [0,1] that the records are one person.
	Score float64 `json:"score"`
	// Level is "match" at or above Config.Match, "possible" at or above
	// Config.Possible, and empty below.
	Level string `json:"level,omitempty"`
	// Weight is the total evidence in bits (log2 odds), prior included.
	Weight float64 `json:"weight"`
	// Explanation lists each field's contribution, in field order.
	Explanation []Piece `json:"explanation"`
}

// Piece is one field's contribution to a Result.
type Piece struct {
	Field   string  `json:"field"`
	Outcome string  `json:"outcome"`
	Weight  float64 `json:"weight"` // bits added to the log2 odds
	Text    string  `json:"text"`   // a sentence for a clerk
}

// Result levels.
const (
	LevelMatch    = "match"
	LevelPossible = "possible"
)

// Compare decides whether a and b are the same person, with the default
// meaning of a stated age (none: ages are only compared when the records
// carry the date they refer to; see CompareRecords).
func Compare(a, b ccpor.Person, cfg Config) Result {
	return CompareRecords(Prepare(a, ccpor.Date{}), Prepare(b, ccpor.Date{}), cfg)
}

// CompareRecords decides whether two prepared records are the same person.
// It is symmetric up to the order of names in the explanation.
func CompareRecords(a, b *Record, cfg Config) Result {
	c := compareRecords(a, b, &cfg)
	per, rel := c.total(&cfg)
	var pieces []Piece
	for i := range numFields {
		if text := explain(i, &c, a, b); text != "" {
			if per[i] == 0 && cfg.weight(i, c.out[i]) > 0 {
				text += " Not counted again: the ZIP code or city already places them."
			}
			pieces = append(pieces, Piece{Field: fields[i], Outcome: c.out[i], Weight: round2(per[i]), Text: text})
		}
	}
	held := cfg.hold(&c, per, rel)
	if rel != 0 {
		_, outcome := c.adjustment(&cfg)
		text := explainHousemate
		if outcome == likelyRelative {
			text = explainRelative(&c, a, b)
			if held != rel {
				text += " " + explainHeld
			}
		}
		pieces = append(pieces, Piece{Field: FieldRelative, Outcome: outcome, Weight: round2(held), Text: text})
	}
	return cfg.result(cfg.sum(per, held), pieces)
}

// hold returns the relative adjustment as a verdict applies it. The
// relative rule is a judgement, not a certainty: one conflict against
// everything else agreeing is what a first name or a birth date keyed
// wrong looks like too (FEBRL 4 makes about 370 of its duplicates that
// way; in the generated orders 9 of the 39 pairs so held are one person,
// against 7% of the pairs otherwise shown as possible). So a pair the
// rule takes from match for one conflict alone is held at the bottom of
// possible, where a clerk sees it with its sentence, never below it where
// nobody does. Two conflicts (a first name and the sex; a birth date and
// Jr against Sr), or Jr against Sr alone, are a relative and keep the
// whole adjustment.
//
// Only verdicts hold: bits, with which the orders' other people are
// weighed, keeps the whole adjustment. The hold is there for a person to
// look, not evidence about anyone else. The conflict check's links hold
// the same way (evidence.level), so a judge sees what a clerk sees.
func (cfg *Config) hold(c *comparison, per [numFields]float64, rel float64) float64 {
	if !cfg.holdable(c, rel) {
		return rel
	}
	full := cfg.sum(per, 0)
	if w := cfg.held(full+rel, full); w != full+rel {
		return w - full
	}
	return rel
}

// held is the rule of hold on total weights (prior included): w with the
// relative adjustment, full without it (equal when it is not holdable).
// A pair that full makes a match is lifted to possible, a hair above the
// threshold so that rounding never drops it below. CompareRecords (through
// hold) and the conflict check (evidence.level) both decide here.
func (cfg *Config) held(w, full float64) float64 {
	if full > w && posterior(full) >= cfg.Match {
		return max(w, logit(cfg.Possible)+1e-9)
	}
	return w
}

// holdable reports whether the relative adjustment rel of c is one that
// hold keeps in sight, whatever the prior: the relative rule's, for one
// conflict that is not Jr against Sr (written to tell two men apart, not
// keyed by accident).
func (cfg *Config) holdable(c *comparison, rel float64) bool {
	if rel >= 0 || cfg.IgnoreRelatives {
		return false
	}
	r, ok := relativeOf(c)
	return ok && len(r.why) == 1 && r.why[0] != "suffix"
}

// logit is the inverse of posterior: the log2 odds of probability p.
func logit(p float64) float64 { return math.Log2(p / (1 - p)) }

// Assess is CompareRecords without the explanation: the score and the
// level. A search scores up to 120 candidates and shows twenty: the
// sentences for the others were written for nobody. Score and level are
// exactly CompareRecords'.
func Assess(a, b *Record, cfg Config) Result {
	return cfg.result(verdictBits(a, b, &cfg), nil)
}

// score is CompareRecords' score alone, for bulk evaluation.
func score(a, b *Record, cfg *Config) float64 { return posterior(verdictBits(a, b, cfg)) }

// verdictBits is bits with a held relative held (see hold): the weight of
// a verdict, which CompareRecords, Assess and score give.
func verdictBits(a, b *Record, cfg *Config) float64 {
	c := compareRecords(a, b, cfg)
	per, rel := c.total(cfg)
	return cfg.sum(per, cfg.hold(&c, per, rel))
}

// bits is the evidence that a and b are one person, in log2 odds.
func bits(a, b *Record, cfg *Config) float64 {
	c := compareRecords(a, b, cfg)
	return cfg.sum(c.total(cfg))
}

// sum adds the prior, the relative adjustment and the fields' weights, in
// that order: CompareRecords, Assess and score all sum here, so they give
// one score to the last bit.
func (cfg *Config) sum(per [numFields]float64, rel float64) float64 {
	w := cfg.priorBits() + rel
	for _, x := range per {
		w += x
	}
	return w
}

func (cfg *Config) result(w float64, pieces []Piece) Result {
	r := Result{Score: posterior(w), Weight: round2(w), Explanation: pieces}
	switch {
	case r.Score >= cfg.Match:
		r.Level = LevelMatch
	case r.Score >= cfg.Possible:
		r.Level = LevelPossible
	}
	return r
}

// posterior turns log2 odds into a probability.
func posterior(bits float64) float64 { return 1 / (1 + math.Exp2(-bits)) }

func round2(x float64) float64 { return math.Round(x*100) / 100 }
