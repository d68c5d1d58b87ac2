package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
)

// FuzzImportLine: any line gives a prepared order with a UUID, the same
// one each time, or a reason that fits on one line of the report; nothing
// panics. The seed corpus is in testdata/fuzz/FuzzImportLine.
func FuzzImportLine(f *testing.F) {
	now := time.Date(2026, time.March, 2, 17, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := parseLine(bytes.Clone(data), now)
		if err != nil {
			var e *ccpor.Error
			if !errors.As(err, &e) || e.Code != ccpor.EInvalid {
				t.Fatalf("error %v (%T), want EInvalid", err, err)
			}
			if msg := describe(err); strings.ContainsAny(msg, "\r\n") || msg == "" {
				t.Fatalf("the report of a bad line spans lines: %q", msg)
			}
			return
		}
		if len(o.ID) != 36 || strings.Count(o.ID, "-") != 4 {
			t.Fatalf("id %q", o.ID)
		}
		again, err := parseLine(bytes.Clone(data), now)
		if err != nil || again.ID != o.ID {
			t.Fatalf("the same line again: %v, id %q then %q", err, o.ID, again.ID)
		}
	})
}
