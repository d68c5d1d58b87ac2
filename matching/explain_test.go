package matching

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ccpor/ccpor"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// format renders a Result the way a clerk's screen lists it.
func format(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "score %.3f level %q weight %.2f\n", r.Score, r.Level, r.Weight)
	for _, p := range r.Explanation {
		fmt.Fprintf(&b, "%+7.2f %-8s %-12s %s\n", p.Weight, p.Field, p.Outcome, p.Text)
	}
	return b.String()
}

func TestExplanationGolden(t *testing.T) {
	cfg := DefaultConfig()
	date := func(s string) ccpor.Date { d, _ := ccpor.ParseDate(s); return d }
	home := &ccpor.Address{Line1: "1412 Alder Creek Rd", City: "Fresno", State: "CA", Zip: "93722"}
	rosa := ccpor.Person{First: "Rosa", Last: "Ortiz", DOB: date("1962-09-14"), Sex: "F"}
	for _, tt := range []struct {
		name   string
		a, b   ccpor.Person
		pa, pb []ccpor.Person // the other people of each record's order
	}{
		{"nickname_dayswap",
			ccpor.Person{First: "Robert", Last: "Castañeda", DOB: date("1984-03-04"), Sex: "M", Race: "H"},
			ccpor.Person{First: "Bob", Last: "Castaneda", DOB: date("1984-04-03"), Sex: "M", Race: "H"}, nil, nil},
		{"compound_surname",
			ccpor.Person{First: "María", Middle: "Elena", Last: "García López", DOB: date("1990-11-23"), Address: home},
			ccpor.Person{First: "Maria", Last: "Lopez", DOB: date("1990-11-23"), Address: &ccpor.Address{Line1: "1412 Alder Creek Road", City: "Fresno", Zip: "93722"}}, nil, nil},
		{"jr_sr_relative",
			ccpor.Person{First: "Daniel", Last: "Ortiz", Suffix: "Sr", DOB: date("1961-07-14"), Sex: "M", Address: home},
			ccpor.Person{First: "Daniel", Last: "Ortiz", Suffix: "Jr", DOB: date("1987-02-03"), Sex: "M", Address: home}, nil, nil},
		{"twins_relative",
			ccpor.Person{First: "Daniel", Last: "Ortiz", DOB: date("1987-02-03"), Sex: "M", Address: home},
			ccpor.Person{First: "Marco", Last: "Ortiz", DOB: date("1987-02-03"), Sex: "M", Address: home}, nil, nil},
		{"identifier_conflict",
			ccpor.Person{First: "Linh", Last: "Trần", DOB: date("1979-05-30"), Identifiers: &ccpor.Identifiers{DL: "D1234567"}},
			ccpor.Person{First: "Linh", Last: "Tran", DOB: date("1979-05-30"), Identifiers: &ccpor.Identifiers{DL: "D7654321"}}, nil, nil},
		{"housemate",
			ccpor.Person{First: "Demetrius", Last: "Washington", Age: 47, Sex: "M", Address: home},
			ccpor.Person{First: "Shanice", Last: "Franklin", DOB: date("1976-06-28"), Sex: "F", Address: home}, nil, nil},
		{"age_estimate",
			ccpor.Person{First: "Tony", Last: "Avakian", Age: 45},
			ccpor.Person{First: "Anthony", Last: "Avakian", DOB: date("1979-08-12"), HeightIn: 70, WeightLb: 190}, nil, nil},
		{"nickname_slip",
			ccpor.Person{First: "Migyel", Last: "Mendoza", DOB: date("1957-10-17"), Sex: "M"},
			ccpor.Person{First: "Mike", Last: "Mendoza", DOB: date("1957-10-17"), Sex: "M"}, nil, nil},
		{"first_and_middle",
			ccpor.Person{First: "Francisco", Middle: "Luis", Last: "Ortega", DOB: date("1983-01-19"), Sex: "M"},
			ccpor.Person{First: "Paco", Middle: "L", Last: "Ortega", DOB: date("1983-01-19"), Sex: "M"}, nil, nil},
		{"shared_party",
			ccpor.Person{First: "Daniel", Last: "Ortiz", Sex: "M"},
			ccpor.Person{First: "Daniel", Last: "Ortiz", DOB: date("1987-02-03"), Sex: "M"},
			[]ccpor.Person{{First: "María", Last: "Delgado", DOB: date("1990-03-21")}},
			[]ccpor.Person{{First: "Maria", Last: "Delgado", DOB: date("1990-03-21")}, {First: "Lucas", Last: "Ortiz", DOB: date("2015-05-02")}}},
		{"twins_shared_party",
			ccpor.Person{First: "Daniel", Last: "Ortiz", DOB: date("1987-02-03"), Sex: "M", Address: home},
			ccpor.Person{First: "Marco", Last: "Ortiz", DOB: date("1987-02-03"), Sex: "M", Address: home},
			[]ccpor.Person{rosa}, []ccpor.Person{rosa}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			on := ccpor.NewDate(2024, 6, 1)
			got := format(CompareRecords(Prepare(tt.a, on).WithParties(tt.pa), Prepare(tt.b, on).WithParties(tt.pb), cfg))
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("explanation mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHousemate: two people at one address with no name in common and a
// different sex are not one person, however much the address weighs; the
// same pair without a sex on record keeps the address as evidence (FEBRL 4
// makes true duplicates that look like that).
func TestHousemate(t *testing.T) {
	cfg := DefaultConfig().WithPopulation(10_000)
	home := &ccpor.Address{Line1: "88 Cedar St", Line2: "Apt 4", City: "Stockton", State: "CA", Zip: "95202"}
	on := ccpor.NewDate(2024, 6, 1)
	a := ccpor.Person{First: "Demetrius", Last: "Washington", Age: 47, Sex: "M", Address: home}
	b := ccpor.Person{First: "Shanice", Last: "Franklin", DOB: ccpor.NewDate(1976, 6, 28), Sex: "F", Address: home}
	r := CompareRecords(Prepare(a, on), Prepare(b, on), cfg)
	if r.Level != "" {
		t.Errorf("housemates scored %.3f (%s), want below possible:\n%s", r.Score, r.Level, format(r))
	}
	if !slices.ContainsFunc(r.Explanation, func(p Piece) bool { return p.Outcome == "likely_housemate" && p.Weight < -20 }) {
		t.Errorf("no housemate adjustment in the explanation:\n%s", format(r))
	}
	a.Sex, b.Sex = "", ""
	r = CompareRecords(Prepare(a, on), Prepare(b, on), cfg)
	if slices.ContainsFunc(r.Explanation, func(p Piece) bool { return p.Field == FieldRelative }) {
		t.Errorf("housemate rule applied without a sex on record:\n%s", format(r))
	}
	// A mother and her small daughter, who bears her father's surname:
	// one sex, but birth dates a generation apart.
	mother := ccpor.Person{First: "Ana", Last: "Figueroa", DOB: ccpor.NewDate(1984, 12, 28), Sex: "F", Address: home}
	daughter := ccpor.Person{First: "Dolores", Last: "Ramirez", DOB: ccpor.NewDate(2020, 12, 15), Sex: "F", Address: home}
	if r := CompareRecords(Prepare(mother, on), Prepare(daughter, on), cfg); r.Level != "" || outcome(r, FieldRelative) != likelyHousemate {
		t.Errorf("mother and daughter scored %.3f (%s), want below possible as housemates:\n%s", r.Score, r.Level, format(r))
	}
	// A stepfather without a birth date on record and the boy: nothing
	// but the address in common.
	stepfather := ccpor.Person{First: "Juan", Middle: "Tolentino", Last: "Cruz", Sex: "M", Address: home}
	boy := ccpor.Person{First: "Rodrigo", Middle: "Manalo", Last: "Villanueva", DOB: ccpor.NewDate(2021, 6, 9), Sex: "M", Address: home}
	if r := CompareRecords(Prepare(stepfather, on), Prepare(boy, on), cfg); r.Level != "" || outcome(r, FieldRelative) != likelyHousemate {
		t.Errorf("stepfather and boy scored %.3f (%s), want below possible as housemates:\n%s", r.Score, r.Level, format(r))
	}
	// A husband and wife, her surname mistyped: relatives, not one person.
	husband := ccpor.Person{First: "Timothy", Last: "O'Brien", DOB: ccpor.NewDate(1984, 8, 20), Sex: "M", Address: home}
	wife := ccpor.Person{First: "Samantha", Middle: "Elizabeth", Last: "O'rBien", DOB: ccpor.NewDate(1989, 11, 30), Sex: "F", Address: home}
	if r := CompareRecords(Prepare(husband, on), Prepare(wife, on), cfg); r.Level != "" || outcome(r, FieldRelative) != likelyRelative {
		t.Errorf("husband and wife scored %.3f (%s), want below possible as relatives:\n%s", r.Score, r.Level, format(r))
	}
}

// TestExplanationScripts: names outside the Latin alphabet are shown as
// written, capitalised where their script has cases, and never cut in the
// middle of a character.
func TestExplanationScripts(t *testing.T) {
	a := Prepare(ccpor.Person{First: "राजेश", Last: "कुमार"}, ccpor.Date{})
	b := Prepare(ccpor.Person{First: "अमित", Last: "कुमार"}, ccpor.Date{})
	c := Prepare(ccpor.Person{First: "дмитрий", Last: "иванов"}, ccpor.Date{})
	for _, tt := range []struct {
		a, b *Record
		want string
	}{
		{a, b, "First names differ (राजेश and अमित)."},
		{c, c, "Family names match (Иванов)."},
	} {
		var texts []string
		for _, p := range CompareRecords(tt.a, tt.b, DefaultConfig()).Explanation {
			if !utf8.ValidString(p.Text) {
				t.Errorf("%s: not UTF-8: %+q", p.Field, p.Text)
			}
			texts = append(texts, p.Text)
		}
		if !slices.Contains(texts, tt.want) {
			t.Errorf("explanation %q lacks %q", texts, tt.want)
		}
	}
}
