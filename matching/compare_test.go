package matching

import (
	"testing"

	"github.com/ccpor/ccpor"
)

// person builds a test person: name as "Last, First Middle" or "First Last",
// dob as YYYY-MM-DD or "".
func person(tb testing.TB, name, dob string) ccpor.Person {
	tb.Helper()
	n := ParseName(name)
	p := ccpor.Person{Last: joinTitle(n.Family), Suffix: n.Suffix}
	if len(n.Given) > 0 {
		p.First = n.Given[0]
		if len(n.Given) > 1 {
			p.Middle = joinTitle(n.Given[1:])
		}
	}
	if dob != "" {
		d, err := ccpor.ParseDate(dob)
		if err != nil {
			tb.Fatal(err)
		}
		p.DOB = d
	}
	return p
}

func joinTitle(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

// outcome returns the outcome a Result records for field, or Missing.
func outcome(r Result, field string) string {
	for _, p := range r.Explanation {
		if p.Field == field {
			return p.Outcome
		}
	}
	return Missing
}

func TestCompareNames(t *testing.T) {
	cfg := DefaultConfig()
	for _, tt := range []struct {
		a, b          string
		given, family string
	}{
		// nicknames
		{"Robert Smith", "Bob Smith", Nickname, Exact},
		{"William Turner", "Bill Turner", Nickname, Exact},
		{"José Hernández", "Pepe Hernandez", Nickname, Exact},
		{"Jesús Ramírez", "Chuy Ramirez", Nickname, Exact},
		{"Francisco Torres", "Paco Torres", Nickname, Exact},
		{"Guadalupe Flores", "Lupe Flores", Nickname, Exact},
		{"Humberto Vega", "Beto Vega", Nickname, Exact},
		{"Hakob Petrosyan", "Hagop Petrosyan", Nickname, Exact},
		// a nickname against a slip in the full name (Miguel, Dolores)
		{"Migyel Mendoza", "Mike Mendoza", NickSlip, Exact},
		{"Lola Ortega", "Dolres Ortega", NickSlip, Exact},
		{"Daniela Smith", "Danny Smith", Different, Exact}, // a feminine form, not a slip of Daniel
		// compound surnames and particles
		{"García López, María", "Maria Lopez", Exact, Compound},
		{"García López, María", "María García", Exact, Compound},
		{"Garcia-Lopez, Maria", "García López, María", Exact, Exact},
		{"Juan de la Cruz", "Juan Delacruz", Exact, Exact},
		{"Matinez Chavez, Edgar", "Martinez Chavez, Edgar", Exact, Typo},
		{"Aguilar-Cervvantes, Julieta", "Aguilar Cervantes, Julieta", Exact, Typo},
		{"Jiménez Gómez, Ana", "Chávez Gómez, Ana", Exact, Different},
		{"Juan de la Cruz", "Juan Cruz", Exact, Exact},
		{"Sean O'Brien", "Sean OBrien", Exact, Exact},
		{"Sean O'Brien", "O Brien, Sean", Exact, Exact},
		// transliteration and accents
		{"Nguyễn Văn Minh", "Nguyen Van Minh", Exact, Exact},
		{"Zoë Muñoz", "Zoe Munoz", Exact, Exact},
		{"Catherine Smith", "Kathryn Smith", Phonetic, Exact},
		{"Jon Smyth", "John Smith", Nickname, Phonetic},
		{"Jeffery Smyth", "Geoffrey Smith", Phonetic, Phonetic},
		// typos
		{"Micheal Johnson", "Michael Johnson", Phonetic, Exact},
		{"Jonathan Hoffman", "Jonathan Hofmfan", Exact, Typo},
		{"Stephanie Kowalski", "Stephanie Kowalsky", Exact, Phonetic},
		// initials and middle names
		{"J Smith", "John Smith", Initial, Exact},
		{"Smith, J Michael", "Michael Smith", Middle, Exact},
		// unrelated
		{"John Smith", "James Smith", Different, Exact},
		{"John Smith", "John Jones", Exact, Different},
	} {
		t.Run(tt.a+"~"+tt.b, func(t *testing.T) {
			r := Compare(person(t, tt.a, ""), person(t, tt.b, ""), cfg)
			if g, f := outcome(r, FieldGiven), outcome(r, FieldFamily); g != tt.given || f != tt.family {
				t.Errorf("given, family = %s, %s; want %s, %s\n%v", g, f, tt.given, tt.family, r.Explanation)
			}
			back := Compare(person(t, tt.b, ""), person(t, tt.a, ""), cfg)
			if !approx(back.Score, r.Score) {
				t.Errorf("not symmetric: %.4f one way, %.4f the other", r.Score, back.Score)
			}
		})
	}
}

func approx(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestCompareSwappedNames(t *testing.T) {
	r := Compare(person(t, "Isla Hall", "1985-02-07"), ccpor.Person{First: "Hall", Last: "Isla", DOB: ccpor.NewDate(1985, 2, 7)}, DefaultConfig())
	if outcome(r, FieldOrder) != Swapped || outcome(r, FieldGiven) != Exact || outcome(r, FieldFamily) != Exact {
		t.Errorf("swapped names not aligned: %v", r.Explanation)
	}
	if r.Level != LevelMatch {
		t.Errorf("level = %q (score %.3f), want match", r.Level, r.Score)
	}
}

func TestCompareBirth(t *testing.T) {
	date := func(s string) ccpor.Date { d, _ := ccpor.ParseDate(s); return d }
	on := ccpor.NewDate(2024, 6, 1)
	for _, tt := range []struct {
		name string
		a, b ccpor.Person
		want string
	}{
		{"exact", ccpor.Person{DOB: date("1980-03-04")}, ccpor.Person{DOB: date("1980-03-04")}, Exact},
		{"day and month swapped", ccpor.Person{DOB: date("1980-03-04")}, ccpor.Person{DOB: date("1980-04-03")}, DaySwap},
		{"one digit wrong", ccpor.Person{DOB: date("1980-03-04")}, ccpor.Person{DOB: date("1980-03-07")}, Typo},
		{"year digits exchanged", ccpor.Person{DOB: date("1980-03-04")}, ccpor.Person{DOB: date("1908-03-04")}, Typo},
		{"year one off", ccpor.Person{DOB: date("1979-03-04")}, ccpor.Person{DOB: date("1980-03-04")}, YearOff},
		{"two of three parts", ccpor.Person{DOB: date("1980-03-04")}, ccpor.Person{DOB: date("1980-11-04")}, Partial},
		{"weeks apart", ccpor.Person{DOB: date("1980-03-04")}, ccpor.Person{DOB: date("1980-02-20")}, Month},
		{"weeks apart across the new year", ccpor.Person{DOB: date("1979-12-28")}, ccpor.Person{DOB: date("1980-01-10")}, Month},
		{"months apart", ccpor.Person{DOB: date("1980-03-04")}, ccpor.Person{DOB: date("1980-05-21")}, Within},
		{"decade digit and days", ccpor.Person{DOB: date("1986-03-07")}, ccpor.Person{DOB: date("1996-03-09")}, YearSlip},
		{"year digit and weeks", ccpor.Person{DOB: date("1987-02-20")}, ccpor.Person{DOB: date("1986-01-25")}, YearSlip},
		{"year digit and days across December", ccpor.Person{DOB: date("1986-12-28")}, ccpor.Person{DOB: date("1996-01-03")}, YearSlip},
		{"year digit and months", ccpor.Person{DOB: date("1986-03-07")}, ccpor.Person{DOB: date("1996-07-09")}, Different},
		{"two year digits and days", ccpor.Person{DOB: date("1986-03-07")}, ccpor.Person{DOB: date("1979-03-09")}, Different},
		{"different", ccpor.Person{DOB: date("1980-03-04")}, ccpor.Person{DOB: date("1972-11-20")}, Different},
		{"a generation apart", ccpor.Person{DOB: date("1980-03-04")}, ccpor.Person{DOB: date("1962-11-20")}, Distant},
		{"birth year only", ccpor.Person{BirthYear: 1980}, ccpor.Person{DOB: date("1980-03-04")}, SameYr},
		{"birth year far", ccpor.Person{BirthYear: 1960}, ccpor.Person{DOB: date("1980-03-04")}, FarOff},
		{"age estimate close", ccpor.Person{Age: 42}, ccpor.Person{DOB: date("1980-03-04")}, AgeBand},
		{"age estimate far", ccpor.Person{Age: 25}, ccpor.Person{DOB: date("1980-03-04")}, FarOff},
		{"missing", ccpor.Person{}, ccpor.Person{DOB: date("1980-03-04")}, Missing},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := compareBirth(birthOf(tt.a, on), birthOf(tt.b, on), DefaultAgeTolerance); got != tt.want {
				t.Errorf("compareBirth = %s, want %s", got, tt.want)
			}
		})
	}
	// An age cannot be compared without the date it was estimated on.
	if got := compareBirth(birthOf(ccpor.Person{Age: 42}, ccpor.Date{}), birthOf(ccpor.Person{DOB: date("1980-03-04")}, ccpor.Date{}), 4); got != Missing {
		t.Errorf("age without a date = %s, want missing", got)
	}
}

// Hard negatives: relatives who share a name and a home must not be merged.
func TestCompareRelatives(t *testing.T) {
	cfg := DefaultConfig()
	home := &ccpor.Address{Line1: "1412 Alder Creek Rd", City: "Fresno", State: "CA", Zip: "93722"}
	at := func(p ccpor.Person, suffix string) ccpor.Person {
		p.Address, p.Suffix, p.Sex = home, suffix, "M"
		return p
	}
	// Relatives land below match. With one conflict alone, everything
	// else agreeing, a keying slip is as good a story, so they are held
	// at possible (a clerk sees them) unless the conflict is Jr against
	// Sr, which is written to tell two men apart.
	for _, tt := range []struct {
		name string
		a, b ccpor.Person
		want string
	}{
		{"father and son, Jr and Sr", at(person(t, "Daniel Ortiz", "1961-07-14"), "Sr"), at(person(t, "Daniel Ortiz", "1987-02-03"), "Jr"), ""},
		{"father and son, suffix only on the son", at(person(t, "Daniel Ortiz", "1961-07-14"), ""), at(person(t, "Daniel Ortiz", "1987-02-03"), "Jr"), ""},
		{"father and son born on one birthday, suffix only on the son", at(person(t, "Daniel Ortiz", "1961-07-14"), ""), at(person(t, "Daniel Ortiz", "1987-07-14"), "Jr"), ""},
		{"Jr and Sr without birth dates", at(person(t, "Daniel Ortiz", ""), "Sr"), at(person(t, "Daniel Ortiz", ""), "Jr"), ""},
		{"brothers", at(person(t, "Daniel Ortiz", "1987-02-03"), ""), at(person(t, "Marco Ortiz", "1990-10-30"), ""), ""},
		{"twins", at(person(t, "Daniel Ortiz", "1987-02-03"), ""), at(person(t, "Marco Ortiz", "1987-02-03"), ""), LevelPossible},
		{"twins with names alike", at(person(t, "Ortiz, Daniel Jose", "1987-02-03"), ""), at(person(t, "Ortiz, David Luis", "1987-02-03"), ""), ""},
		{"father and son of one name, no suffix", at(person(t, "Daniel Ortiz", "1961-07-14"), ""), at(person(t, "Daniel Ortiz", "1987-02-03"), ""), LevelPossible},
		{"father and son of one name and birthday, no suffix", at(person(t, "Daniel Ortiz", "1961-07-14"), ""), at(person(t, "Daniel Ortiz", "1987-07-14"), ""), LevelPossible},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := Compare(tt.a, tt.b, cfg)
			if r.Level != tt.want {
				t.Errorf("level = %q (score %.3f), want %q\n%v", r.Level, r.Score, tt.want, r.Explanation)
			}
			if r.Level == LevelPossible && r.Score > cfg.Possible+1e-6 {
				t.Errorf("score %.6f: a held relative sits at the bottom of possible (%.2f)", r.Score, cfg.Possible)
			}
		})
	}
	// Twins of different sex, or with more than one conflict, are
	// relatives outright; the hold is only for one conflict.
	sister := at(person(t, "Maria Ortiz", "1987-02-03"), "")
	sister.Sex = "F"
	if r := Compare(at(person(t, "Daniel Ortiz", "1987-02-03"), ""), sister, cfg); r.Level != "" {
		t.Errorf("twin brother and sister: level %q (score %.3f), want below possible", r.Level, r.Score)
	}
	// A pair that would not be a match without the rule is not lifted:
	// the hold keeps a match in sight, it makes no new candidates.
	away := person(t, "Marco Ortiz", "1987-02-03")
	if r := Compare(at(person(t, "Daniel Ortiz", "1987-02-03"), ""), away, cfg); r.Level != "" {
		t.Errorf("twins, one without sex or address: level %q (score %.3f), want below possible", r.Level, r.Score)
	}
	// The same man entered twice, once with a slip in his birth date, or
	// once with a wrong birth date less than a generation off, is still a
	// match: no relative shares his first name and home at that age gap.
	for _, tt := range []struct{ name, dob string }{
		{"birth-date typo", "1987-02-08"},
		{"wrong birth date", "1979-11-20"},
	} {
		r := Compare(at(person(t, "Daniel Ortiz", "1987-02-03"), ""), at(person(t, "Daniel Ortiz", tt.dob), ""), cfg)
		if r.Level != LevelMatch {
			t.Errorf("same person with a %s: level %q (score %.3f), want match\n%v", tt.name, r.Level, r.Score, r.Explanation)
		}
	}
	// The son entered once with his suffix and an age, once without it
	// and with his birth date: the age puts them in one generation, so
	// the suffix on one side alone is a dropped suffix, not his father.
	son := at(person(t, "Daniel Ortiz", ""), "Jr")
	son.Age = 37 // on 2024-06-01; born 1987
	on := ccpor.NewDate(2024, 6, 1)
	if r := CompareRecords(Prepare(son, on), Prepare(at(person(t, "Daniel Ortiz", "1987-02-03"), ""), on), cfg); r.Level != LevelMatch {
		t.Errorf("Jr with an age against his birth date without the suffix: level %q (score %.3f), want match\n%v", r.Level, r.Score, r.Explanation)
	}
}

func TestCompareMiddle(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want string
	}{
		{"Howard, David Michael", "Howard, David Michael", Exact},
		{"Howard, David M", "Howard, David Michael", Initial},
		{"Ochoa, Sandra del Rosario", "Ochoa, Sandra Rosario", Exact},
		{"Howard, David Micheal", "Howard, David Michael", Similar},
		{"Lopez, Ana Maria Luisa", "Lopez, Ana Luisa", Similar},
		{"Howard, David Michael", "Howard, David Lee", Different},
		{"Howard, David J", "Howard, David Michael", Different},
		{"Howard, David", "Howard, David Lee", Missing},
	} {
		t.Run(tt.a+"~"+tt.b, func(t *testing.T) {
			a, b := prepareName(ParseName(tt.a)), prepareName(ParseName(tt.b))
			if got := compareMiddle(&a, &b); got != tt.want {
				t.Errorf("compareMiddle = %s, want %s", got, tt.want)
			}
		})
	}
	// Two men of one common name and different middle names are two
	// people unless the rest is overwhelming.
	cfg := DefaultConfig().WithPopulation(10_000)
	same := Compare(person(t, "Howard, David Michael", "1987-03-10"), person(t, "Howard, David Michael", "1987-03-10"), cfg)
	other := Compare(person(t, "Howard, David Michael", "1987-03-10"), person(t, "Howard, David Lee", "1987-03-10"), cfg)
	if other.Score >= same.Score || outcome(other, FieldMiddle) != Different {
		t.Errorf("different middle names scored %.3f (%s), same %.3f", other.Score, outcome(other, FieldMiddle), same.Score)
	}
}

// TestCompareParties: the other people of two orders are evidence about
// their restrained persons. A thin record (a name and no birth date) is
// one man when both orders protect the same woman, and not enough alone;
// a different protected person weighs a little against; two brothers
// restrained from their mother are not made one man by her.
func TestCompareParties(t *testing.T) {
	cfg := DefaultConfig()
	on := ccpor.NewDate(2024, 6, 1)
	rosa := person(t, "Rosa Ortiz", "1962-09-14")
	maria := person(t, "María Delgado", "1990-03-21")
	ana := person(t, "Ana Villanueva", "1993-12-02")
	thin := person(t, "Daniel Ortiz", "")
	full := person(t, "Daniel Ortiz", "1987-02-03")
	hung, vy, son := person(t, "Hung Thanh Bui", ""), person(t, "Vy Bich Hoang", "1991-10-09"), person(t, "Bao Bui", "2016-04-11")
	for _, tt := range []struct {
		name       string
		a, b       ccpor.Person
		pa, pb     []ccpor.Person
		party      string
		level      string
		wantWeight func(float64) bool
	}{
		{"no parties", thin, full, nil, nil, Missing, "", nil},
		{"one side only", thin, full, []ccpor.Person{maria}, nil, Missing, "", nil},
		{"same protected person", thin, full, []ccpor.Person{maria}, []ccpor.Person{person(t, "Maria Delgado", "1990-03-21")}, Shared, LevelMatch,
			func(w float64) bool { return w > 5 }},
		{"different protected person", thin, full, []ccpor.Person{maria}, []ccpor.Person{ana}, Different, "",
			func(w float64) bool { return w < 0 }},
		// Without a birth date, the first names tell the brothers apart:
		// two men of one family each restrained from their mother are
		// relatives, and she is no evidence that they are one man.
		{"brothers and their mother", full, person(t, "Marco Ortiz", ""), []ccpor.Person{rosa}, []ccpor.Person{rosa}, Shared, "", nil},
		// With one, they stay too far apart for her to matter, and the
		// parties are not compared at all.
		{"brothers born apart", full, person(t, "Marco Ortiz", "1990-10-30"), []ccpor.Person{rosa}, []ccpor.Person{rosa}, Missing, "", nil},
		// Sisters with no home on record, each restrained from their
		// mother, a height and a race group alike: she is no evidence
		// that they are one woman, any more than a shared home would be.
		{"sisters and their mother", sister(t, "Nhung Vu", "1987-10-10", "A", 63), sister(t, "Tuyet Vu", "1991-10-19", "V", 66),
			[]ccpor.Person{rosa}, []ccpor.Person{rosa}, Shared, "", nil},
		// Mutual orders: he is restrained for her, she for him, and their
		// son is protected by both. The son is no evidence that he is
		// she: her order names him as another person.
		{"mutual orders", hung, vy, []ccpor.Person{vy, son}, []ccpor.Person{hung, son}, Apart, "",
			func(w float64) bool { return w < -5 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := CompareRecords(Prepare(tt.a, on).WithParties(tt.pa), Prepare(tt.b, on).WithParties(tt.pb), cfg)
			if got := outcome(r, FieldParty); got != tt.party {
				t.Errorf("party outcome %q, want %q\n%s", got, tt.party, format(r))
			}
			if r.Level != tt.level {
				t.Errorf("level %q (score %.3f), want %q\n%s", r.Level, r.Score, tt.level, format(r))
			}
			for _, p := range r.Explanation {
				if p.Field == FieldParty && tt.wantWeight != nil && !tt.wantWeight(p.Weight) {
					t.Errorf("party weighs %.2f bits\n%s", p.Weight, format(r))
				}
			}
		})
	}
}

// sister is a woman of the given race code and height.
func sister(t *testing.T, name, dob, race string, height int) ccpor.Person {
	p := person(t, name, dob)
	p.Sex, p.Race, p.HeightIn = "F", race, height
	return p
}
