package matching

import (
	"slices"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/google/go-cmp/cmp"
)

func TestFold(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"José", "jose"},
		{"Nguyễn", "nguyen"},
		{"Muñoz", "munoz"},
		{"Strauß", "strauss"},
		{"O'Brien", "obrien"},
		{"O’Brien", "obrien"},
		{"García-López", "garcia lopez"},
		{"  SMITH,   John  ", "smith john"},
		{"Đặng", "dang"},
		{"Zoë", "zoe"},
		// Devanagari's vowel signs are the name, not accents on it; the
		// spacing sign ा is no word break.
		{"राजेश कुमार", "राजेश कुमार"},
		{"Иванов-Йовић", "иванов иовић"},
		// Arabic vowel points are mostly left out in writing.
		{"مُحَمَّد", "محمد"},
	} {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNameOf(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    ccpor.Person
		want Name
	}{
		{"plain", ccpor.Person{First: "John", Middle: "Q", Last: "Public"},
			Name{Given: []string{"john", "q"}, Family: []string{"public"}}},
		{"last comma first", ccpor.Person{Last: "Garcia Lopez, Maria Elena"},
			Name{Given: []string{"maria", "elena"}, Family: []string{"garcia", "lopez"}}},
		{"suffix in last name", ccpor.Person{First: "John", Last: "Smith Jr."},
			Name{Given: []string{"john"}, Family: []string{"smith"}, Suffix: "jr"}},
		{"suffix field spelt out", ccpor.Person{First: "John", Last: "Smith", Suffix: "Senior"},
			Name{Given: []string{"john"}, Family: []string{"smith"}, Suffix: "sr"}},
		{"roman numeral", ccpor.Person{First: "Henry", Last: "Ford III"},
			Name{Given: []string{"henry"}, Family: []string{"ford"}, Suffix: "iii"}},
		{"O Brien apart", ccpor.Person{First: "Sean", Last: "O Brien"},
			Name{Given: []string{"sean"}, Family: []string{"obrien"}}},
		{"hyphenated", ccpor.Person{First: "Ana", Last: "García-López"},
			Name{Given: []string{"ana"}, Family: []string{"garcia", "lopez"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, NameOf(tt.p)); diff != "" {
				t.Errorf("NameOf mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseName(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Name
	}{
		{"Juan de la Cruz", Name{Given: []string{"juan"}, Family: []string{"de", "la", "cruz"}}},
		{"John D Smith", Name{Given: []string{"john", "d"}, Family: []string{"smith"}}},
		{"Smith, John Jr", Name{Given: []string{"john"}, Family: []string{"smith"}, Suffix: "jr"}},
		{"Ludwig van Beethoven", Name{Given: []string{"ludwig"}, Family: []string{"van", "beethoven"}}},
	} {
		if diff := cmp.Diff(tt.want, ParseName(tt.in)); diff != "" {
			t.Errorf("ParseName(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestCore(t *testing.T) {
	for _, tt := range []struct {
		last string
		want []string
	}{
		{"de la Cruz", []string{"cruz"}},
		{"Van der Berg", []string{"berg"}},
		{"Le", []string{"le"}}, // a Vietnamese surname, not a particle
		{"St. John", []string{"john"}},
		{"García López", []string{"garcia", "lopez"}},
	} {
		if got := NameOf(ccpor.Person{Last: tt.last}).Core(); !slices.Equal(got, tt.want) {
			t.Errorf("Core(%q) = %q, want %q", tt.last, got, tt.want)
		}
	}
}

func TestCanonicalGiven(t *testing.T) {
	for _, tt := range []struct {
		name string
		want string // one of the canonical forms
	}{
		{"Bob", "robert"}, {"Robert", "robert"}, {"Bill", "william"},
		{"Al", "albert"}, {"Al", "alfred"}, {"Pepe", "jose"}, {"Chuy", "jesus"},
		{"Paco", "francisco"}, {"Pancho", "francisco"}, {"Beto", "humberto"},
		{"Lupe", "guadalupe"}, {"Toño", "antonio"}, {"Concha", "concepcion"},
		{"Hagop", "hakob"}, {"Zyxwv", "zyxwv"},
		// Gaps found against the fixtures generator's list of familiar
		// forms, each in common use.
		{"Kate", "catherine"}, {"Katie", "katherine"}, {"Jerry", "jerome"},
		{"Terry", "terrence"}, {"Dre", "deandre"}, {"Meech", "demetrius"},
		{"Jojo", "jonathan"}, {"Hovo", "hovhannes"}, {"Greg", "grigor"},
	} {
		if got := CanonicalGiven(tt.name); !slices.Contains(got, tt.want) {
			t.Errorf("CanonicalGiven(%q) = %q, want it to contain %q", tt.name, got, tt.want)
		}
	}
}

func TestPhoneticKeys(t *testing.T) {
	meet := func(a, b string) bool {
		for _, k := range PhoneticKeys(a) {
			if slices.Contains(PhoneticKeys(b), k) {
				return true
			}
		}
		return false
	}
	for _, p := range [][2]string{{"Smith", "Smyth"}, {"Catherine", "Kathryn"}, {"Nguyễn", "Nguyen"}, {"Jon", "John"}} {
		if !meet(p[0], p[1]) {
			t.Errorf("PhoneticKeys(%q) and PhoneticKeys(%q) share no key", p[0], p[1])
		}
	}
	if k := PhoneticKeys("Smith"); len(k) != len(slices.Compact(slices.Sorted(slices.Values(k)))) {
		t.Errorf("PhoneticKeys(Smith) = %q has duplicates", k)
	}
	if k := PhoneticKeys("--"); k != nil {
		t.Errorf("PhoneticKeys(--) = %q, want nil", k)
	}
}

func TestKeys(t *testing.T) {
	shared := func(a, b ccpor.Person) bool {
		for _, k := range Keys(a) {
			if slices.Contains(Keys(b), k) {
				return true
			}
		}
		return false
	}
	dob := func(s string) ccpor.Date { d, _ := ccpor.ParseDate(s); return d }
	for _, tt := range []struct {
		name string
		a, b ccpor.Person
	}{
		{"day and month swapped, names unrelated", ccpor.Person{First: "Ann", Last: "Lee", DOB: dob("1980-03-04")},
			ccpor.Person{First: "Zed", Last: "Xu", DOB: dob("1980-04-03")}},
		{"nickname", ccpor.Person{First: "Bob", Last: "Qq"}, ccpor.Person{First: "Robert", Last: "Zz"}},
		{"names in each other's boxes", ccpor.Person{First: "Hall", Last: "Isla"}, ccpor.Person{First: "Isla", Last: "Hall"}},
		{"typo that changes the phonetic code", ccpor.Person{Last: "Hofmfan"}, ccpor.Person{Last: "Hoffman"}},
		{"compound surname", ccpor.Person{Last: "García López"}, ccpor.Person{Last: "Lopez"}},
		{"same address", ccpor.Person{First: "A", Address: &ccpor.Address{Line1: "12 Main St", Zip: "95814"}},
			ccpor.Person{First: "B", Address: &ccpor.Address{Line1: "12 Main Street", Zip: "95814-1234"}}},
	} {
		if !shared(tt.a, tt.b) {
			t.Errorf("%s: no shared key between %q and %q", tt.name, Keys(tt.a), Keys(tt.b))
		}
	}
	if k := KeysAt(ccpor.Person{Last: "X", Age: 40}, ccpor.NewDate(2024, 6, 1)); !slices.Contains(k, "by:1983") || !slices.Contains(k, "by:1984") {
		t.Errorf("KeysAt with age 40 on 2024-06-01 = %q, want birth years 1983 and 1984", k)
	}
}
