package matching

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// title capitalises each word of a folded string for display.
func title(s string) string {
	w := strings.Fields(s)
	for i, x := range w {
		r, n := utf8.DecodeRuneInString(x)
		w[i] = string(unicode.ToUpper(r)) + x[n:]
	}
	return strings.Join(w, " ")
}

// names returns the aligned names of the pair (b's swapped when the
// alignment swapped them).
func (c *comparison) names(a, b *Record) (*preparedName, *preparedName) {
	if c.out[iOrder] == Swapped {
		return &a.names[c.na], &b.swapped[c.nb]
	}
	return &a.names[c.na], &b.names[c.nb]
}

// explain returns the sentence for field i, or "" when there is nothing to
// say (the field is on neither record, or names are in their boxes).
func explain(i int, c *comparison, a, b *Record) string {
	level := c.out[i]
	na, nb := c.names(a, b)
	pa, pb := &a.Person, &b.Person
	if level == Missing {
		if what := onOneSide(i, a, b, na, nb); what != "" {
			return what + " is recorded on only one of the records, so it was not compared."
		}
		return ""
	}
	pair := func(x, y string) string {
		if x == y {
			return "(" + x + ")"
		}
		return "(" + x + " and " + y + ")"
	}
	switch i {
	case iGiven:
		ga, gb := na.Given, nb.Given
		if c.out[iMiddle] != Missing && len(ga) > 0 && len(gb) > 0 {
			// The middle names have a sentence of their own.
			ga, gb = ga[:1], gb[:1]
		}
		g := pair(title(strings.Join(ga, " ")), title(strings.Join(gb, " ")))
		return map[string]string{
			Exact:     "First names match " + g + ".",
			Nickname:  "First names are nickname forms of one name " + g + ".",
			NickSlip:  "One first name is a nickname of a name the other looks like a misspelling of " + g + ".",
			Phonetic:  "First names sound alike " + g + ".",
			Typo:      "First names differ by a spelling slip " + g + ".",
			Fuzzy:     "First names are spelt alike " + g + ".",
			Initial:   "An initial agrees with the first name " + g + ".",
			Middle:    "One record's first name is the other's middle name " + g + ".",
			Different: "First names differ " + g + ".",
		}[level]
	case iMiddle:
		m := pair(title(strings.Join(na.middles(), " ")), title(strings.Join(nb.middles(), " ")))
		return map[string]string{
			Exact:     "Middle names match " + m + ".",
			Similar:   "Middle names are alike " + m + ".",
			Initial:   "A middle initial agrees with the middle name " + m + ".",
			Different: "Middle names differ " + m + ": usually two people.",
		}[level]
	case iFamily:
		f := pair(title(strings.Join(na.Family, " ")), title(strings.Join(nb.Family, " ")))
		return map[string]string{
			Exact:     "Family names match " + f + ".",
			Compound:  "One family name is part of the other's double surname " + f + ".",
			Phonetic:  "Family names sound alike " + f + ".",
			Typo:      "Family names differ by a spelling slip " + f + ".",
			Fuzzy:     "Family names are spelt alike " + f + ".",
			Different: "Family names differ " + f + ".",
		}[level]
	case iOrder:
		if level == Swapped {
			return "First and family names appear exchanged between the records."
		}
		return ""
	case iSuffix:
		s := pair(title(a.names[c.na].Suffix), title(b.names[c.nb].Suffix))
		return map[string]string{
			Exact:     "Suffixes match " + s + ".",
			OneSided:  "Only one record has a suffix " + strings.ReplaceAll(s, " and ", "") + "; it may be dropped, or it may be a father and son.",
			Different: "Suffixes differ " + s + ": usually a father and son, not one person.",
		}[level]
	case iBirth:
		return explainBirth(level, a, b)
	case iSex:
		return map[string]string{Exact: "Sex matches.", Different: "Sex differs (" + pa.Sex + " and " + pb.Sex + ")."}[level]
	case iRace:
		return map[string]string{Exact: "Race matches.", Related: "Race codes are in the same group (" + pa.Race + " and " + pb.Race + ").",
			Different: "Race differs (" + pa.Race + " and " + pb.Race + ")."}[level]
	case iHeight:
		return fmt.Sprintf(map[string]string{Close: "Heights agree within 2 inches (%d and %d in).", Near: "Heights are within 4 inches (%d and %d in).",
			Different: "Heights differ (%d and %d in)."}[level], pa.HeightIn, pb.HeightIn)
	case iWeight:
		return fmt.Sprintf(map[string]string{Close: "Weights agree within 10%% (%d and %d lb).", Near: "Weights are within 25%% (%d and %d lb).",
			Different: "Weights differ (%d and %d lb)."}[level], pa.WeightLb, pb.WeightLb)
	case iID:
		return map[string]string{Exact: "The " + c.idName + " is the same on both records.",
			Typo:      "The " + c.idName + " differs by one digit or two swapped digits: likely a keying slip.",
			Different: "The " + c.idName + " differs: evidence of two people, unless one number was mis-keyed."}[level]
	case iStreet:
		s := pair(title(a.address().line), title(b.address().line))
		return map[string]string{Exact: "Street addresses match " + s + ".", Similar: "Street addresses match but for a slip " + s + ".",
			Partial: "Same street, different house number " + s + ".", Different: "Street addresses differ " + s + "."}[level]
	case iLine2:
		return map[string]string{Exact: "Address line 2 matches.", Similar: "Address line 2 matches but for a slip.", Different: "Address line 2 differs."}[level]
	case iCity:
		s := pair(title(a.address().city), title(b.address().city))
		return map[string]string{Exact: "Cities match " + s + ".", Similar: "Cities match but for a slip " + s + ".", Different: "Cities differ " + s + "."}[level]
	case iZip:
		s := pair(a.address().zip, b.address().zip)
		return map[string]string{Exact: "ZIP codes match " + s + ".", Typo: "ZIP codes differ by one digit " + s + ".", Different: "ZIP codes differ " + s + "."}[level]
	case iState:
		return map[string]string{Exact: "States match.", Different: "States differ."}[level]
	case iParty:
		// The person is not named: a minor's identity may be
		// confidential (FC 6301.5), and the clerk knows whom the new
		// order names.
		switch level {
		case Shared:
			return "Both orders also name the same other person."
		case Apart:
			return "One order names both people, as two different people in it."
		}
		return "No one else named in one order is named in the other."
	}
	return ""
}

// onOneSide names field i when exactly one record has it.
func onOneSide(i int, a, b *Record, na, nb *preparedName) string {
	has := func(x, y bool) bool { return x != y }
	switch i {
	case iGiven:
		if has(na.given != "", nb.given != "") {
			return "A first name"
		}
	case iFamily:
		if has(len(na.core) > 0, len(nb.core) > 0) {
			return "A family name"
		}
	case iBirth:
		if has(a.birth.known(), b.birth.known()) {
			return "A birth date or age"
		}
	case iSex:
		if has(normSex(a.Person.Sex) != "", normSex(b.Person.Sex) != "") {
			return "Sex"
		}
	case iID:
		if has(a.ids != ids{}, b.ids != ids{}) {
			return "An identifier (DL, CII, FBI, SSN)"
		}
	case iStreet:
		if has(a.address().line != "", b.address().line != "") {
			return "A street address"
		}
	}
	return ""
}

func explainBirth(level string, a, b *Record) string {
	x, y := describeBirth(a.Person), describeBirth(b.Person)
	both := "(" + x + " and " + y + ")"
	switch level {
	case Exact:
		return "Birth dates match (" + x + ")."
	case DaySwap:
		return fmt.Sprintf("Birth dates match with day and month swapped (%s vs %s).", x[:5], y[:5])
	case Typo:
		return "Birth dates differ by one mistyped digit or two exchanged digits " + both + "."
	case YearOff:
		return "Birth dates share day and month, with years one apart " + both + "."
	case Partial:
		return "Birth dates agree in two of year, month and day " + both + "."
	case Month:
		return "Birth dates differ but are less than a month apart " + both + "."
	case Within:
		return "Birth dates differ but are less than a year apart " + both + "."
	case YearSlip:
		return "Birth dates differ by one digit of the year and less than a month of the day " + both + "."
	case Different:
		return "Birth dates differ " + both + "."
	case Distant:
		return "Birth dates are a generation or more apart " + both + "."
	case SameYr:
		return "Birth years agree " + both + "."
	case AgeBand:
		return "Age and birth information are consistent within the tolerance for estimates " + both + "."
	case FarOff:
		return "Age or birth year rules the other record out " + both + "."
	}
	return ""
}

// explainHousemate says why an address shared by two people with no name
// in common, and a different sex or birth date, was not counted.
const explainHousemate = "Likely someone else living at the same address: no name in common, and a different sex or no birth date in common. The shared address was not counted as evidence."

// explainHeld follows explainRelative when hold keeps the pair possible.
const explainHeld = "That is their one difference, and a keying slip would look the same, so they are shown as possible, for a person to check, not as one person."

// explainRelative says why a pair sharing a family name looks like two
// relatives.
func explainRelative(c *comparison, a, b *Record) string {
	r, _ := relativeOf(c)
	var parts []string
	for _, w := range r.why {
		p := "different " + w
		switch w {
		case "birth date":
			p += " (" + describeBirth(a.Person) + " vs " + describeBirth(b.Person)
			if r.gap >= 0 {
				p += fmt.Sprintf(", at least %d years apart", r.gap)
			}
			p += ")"
		case "suffix":
			x, y := title(a.names[c.na].Suffix), title(b.names[c.nb].Suffix)
			if x == "" || y == "" {
				p = "suffix on one record only (" + x + y + ")"
			} else {
				p += " (" + x + " vs " + y + ")"
			}
		}
		parts = append(parts, p)
	}
	d := strings.Join(parts, ", ")
	// Relatives are named in one family's orders: the person both orders
	// name is withdrawn with the name and the home.
	also := ""
	if c.out[iParty] == Shared {
		also = ", and the person both orders also name,"
	}
	if r.household {
		return "Likely a relative: same family name and address, " + d + ". The shared name and address" + also + " were not counted as evidence."
	}
	verb := " was"
	if also != "" {
		verb = " were"
	}
	return "Likely a relative: same family name, " + d + ". The shared family name" + also + verb + " not counted as evidence."
}
