package ccpor

import "time"

// Law-enforcement transmission (domain.md §3.3): an order protects no one
// until law enforcement has it, so the court sends every new, modified,
// renewed, terminated or served order to the state's restraining order
// system (CARPOS, through CLETS) within one business day (FC 6380).

// TransmissionAction says what a message tells law enforcement.
type TransmissionAction string

// Transmission actions: a new order is entered; each later version
// modifies, renews, terminates it or records its service.
const (
	TransmitEnter     TransmissionAction = "enter"
	TransmitModify    TransmissionAction = "modify"
	TransmitRenew     TransmissionAction = "renew"
	TransmitTerminate TransmissionAction = "terminate"
	TransmitService   TransmissionAction = "service"
)

// TransmissionActionOf returns the message action for a change of an order
// recorded with action (the action of its new version): create is an
// entry, renew, terminate and service are themselves, and any other change
// of the order's data is a modification.
func TransmissionActionOf(action string) TransmissionAction {
	switch a := TransmissionAction(action); a {
	case TransmitRenew, TransmitTerminate, TransmitService:
		return a
	case "create", TransmitEnter:
		return TransmitEnter
	}
	return TransmitModify
}

// TransmissionState is where a message stands: pending until the
// transport has delivered it, sent until law enforcement answers, then
// acknowledged or rejected.
type TransmissionState string

// Transmission states.
const (
	TransmissionPending      TransmissionState = "pending"
	TransmissionSent         TransmissionState = "sent"
	TransmissionAcknowledged TransmissionState = "acknowledged"
	TransmissionRejected     TransmissionState = "rejected"
)

// TransmissionStates lists every state in the order a message passes them.
var TransmissionStates = []TransmissionState{TransmissionPending, TransmissionSent, TransmissionAcknowledged, TransmissionRejected}

// TransmissionFormat names the payload's format. The payload is
//
//	{"format": "ccpor-ncic-v1", "message_id", "action", "order_id",
//	 "order_version", "county", "created_at", "due_on",
//	 "ncic": {...}, "order": {...}}
//
// with the NCIC-modelled message (NCICMessageOf) and the order as the
// registry stores that version (its API JSON without status, warnings
// and history). Messages queued before it were "ccpor-order-v1", the
// same without "ncic": a receiver reads both.
const TransmissionFormat = NCICFormat

// Transmission is one message to law enforcement about one version of one
// order.
type Transmission struct {
	ID           string             `json:"id"` // UUID; names the message everywhere, files included
	OrderID      string             `json:"order_id"`
	OrderVersion int                `json:"order_version"`
	Action       TransmissionAction `json:"action"`
	County       string             `json:"county"`
	State        TransmissionState  `json:"state"`
	// Attempts counts the times a transmitter took the message to send.
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"next_attempt_at"`
	// LastError is why the last attempt failed, or why law enforcement
	// rejected the message.
	LastError      string     `json:"last_error,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	SentAt         *time.Time `json:"sent_at,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"` // when law enforcement answered, either way
	// DueOn is the last day law enforcement should have it (TransmissionDue).
	DueOn Date `json:"due_on"`
	// Payload is the message as sent (TransmissionFormat), when loaded.
	Payload []byte `json:"-"`
	// Order is the order's current version, when listed for a screen.
	Order *Order `json:"-"`
}

// TransmissionDue returns the day by whose end a change made at t must
// reach law enforcement: the next court day (FC 6380: within one business
// day), judged in California.
func TransmissionDue(t time.Time) Date {
	return NthCourtDayAfter(DateOf(t), 1)
}

// Answered reports whether law enforcement has answered the message.
func (m *Transmission) Answered() bool {
	return m.State == TransmissionAcknowledged || m.State == TransmissionRejected
}

// OverdueOn reports whether the message is past its due day on today and
// law enforcement has not acknowledged it.
func (m *Transmission) OverdueOn(today Date) bool {
	return m.State != TransmissionAcknowledged && m.DueOn.Before(today)
}
