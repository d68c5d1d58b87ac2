package matching

import (
	"testing"

	"github.com/ccpor/ccpor"
)

func BenchmarkPrepare(b *testing.B) {
	p := ccpor.Person{First: "María", Middle: "Elena", Last: "García López", DOB: ccpor.NewDate(1990, 11, 23),
		Address: &ccpor.Address{Line1: "1412 Alder Creek Rd", City: "Fresno", Zip: "93722"}}
	for b.Loop() {
		Prepare(p, ccpor.Date{})
	}
}

func BenchmarkCompareRecords(b *testing.B) {
	cfg := DefaultConfig()
	x := Prepare(ccpor.Person{First: "Robert", Last: "Castañeda", DOB: ccpor.NewDate(1984, 3, 4)}, ccpor.Date{})
	y := Prepare(ccpor.Person{First: "Bob", Last: "Castaneda", DOB: ccpor.NewDate(1984, 4, 3)}, ccpor.Date{})
	b.Run("explained", func(b *testing.B) {
		for b.Loop() {
			CompareRecords(x, y, cfg)
		}
	})
	b.Run("score only", func(b *testing.B) {
		for b.Loop() {
			score(x, y, &cfg)
		}
	})
	// A first name the nickname tables do not know against one they do
	// is the dearest way for first names to differ: the misspelt-nickname
	// test looks up every deletion of it.
	u := Prepare(ccpor.Person{First: "Migyel", Last: "Castaneda", DOB: ccpor.NewDate(1984, 4, 3)}, ccpor.Date{})
	b.Run("unknown first name", func(b *testing.B) {
		for b.Loop() {
			score(x, u, &cfg)
		}
	})
}
