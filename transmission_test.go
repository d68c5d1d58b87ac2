package ccpor

import (
	"testing"
	"time"
)

// TestTransmissionDue: a change must reach law enforcement by the end of
// the next court day (FC 6380), the day judged in California.
func TestTransmissionDue(t *testing.T) {
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		// Monday 2 March 2026, 9 am in California.
		{time.Date(2026, time.March, 2, 17, 0, 0, 0, time.UTC), "2026-03-03"},
		// Tuesday 3 March at 7 am UTC is still Monday evening in California.
		{time.Date(2026, time.March, 3, 7, 0, 0, 0, time.UTC), "2026-03-03"},
		// Friday → Monday; Saturday and Sunday → Monday.
		{time.Date(2026, time.March, 6, 20, 0, 0, 0, time.UTC), "2026-03-09"},
		{time.Date(2026, time.March, 7, 20, 0, 0, 0, time.UTC), "2026-03-09"},
		{time.Date(2026, time.March, 8, 20, 0, 0, 0, time.UTC), "2026-03-09"},
		// Monday 30 March 2026 → Wednesday 1 April: Tuesday 31 is César
		// Chávez Day.
		{time.Date(2026, time.March, 30, 20, 0, 0, 0, time.UTC), "2026-04-01"},
		// Wednesday before Thanksgiving 2026 (26 November) → Monday 30.
		{time.Date(2026, time.November, 25, 20, 0, 0, 0, time.UTC), "2026-11-30"},
	} {
		if got := TransmissionDue(tt.at).String(); got != tt.want {
			t.Errorf("TransmissionDue(%s) = %s, want %s", tt.at.In(Pacific), got, tt.want)
		}
	}
}

func TestTransmissionActionOf(t *testing.T) {
	for action, want := range map[string]TransmissionAction{
		"create": TransmitEnter, "modify": TransmitModify, "renew": TransmitRenew,
		"terminate": TransmitTerminate, "service": TransmitService, "link": TransmitModify,
	} {
		if got := TransmissionActionOf(action); got != want {
			t.Errorf("TransmissionActionOf(%q) = %s, want %s", action, got, want)
		}
	}
}
