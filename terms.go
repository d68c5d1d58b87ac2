package ccpor

// Terms are an order's structured conditions. NCIC protection-order
// condition codes are in brackets.
type Terms struct {
	Conduct           bool     `json:"conduct"`                      // no abuse, threats, stalking (01, 02)
	NoContact         bool     `json:"no_contact"`                   // no contact of any kind (05)
	PeacefulContact   bool     `json:"peaceful_contact"`             // contact allowed if peaceful (criminal orders)
	ContactExceptions []string `json:"contact_exceptions,omitempty"` // see ContactExceptions
	StayAwayYards     int      `json:"stay_away_yards"`              // 0 when none (04)
	StayAwayPlaces    []string `json:"stay_away_places,omitempty"`   // see StayAwayPlaces
	MoveOut           bool     `json:"move_out"`                     // leave the shared residence (03)
	Firearms          bool     `json:"firearms"`                     // firearms prohibited, relinquishment (07)
	Custody           string   `json:"custody,omitempty"`            // protected, restrained, joint (06, 09)
	Visitation        string   `json:"visitation,omitempty"`         // none, supervised, unsupervised
	Other             string   `json:"other,omitempty"`              // other conditions as text (08)
}

// ContactExceptions are the allowed values of Terms.ContactExceptions.
var ContactExceptions = []string{"court_ordered_visitation", "child_exchange", "attorney", "process_server", "court_proceedings"}

// StayAwayPlaces are the allowed values of Terms.StayAwayPlaces.
var StayAwayPlaces = []string{"residence", "workplace", "school", "vehicle", "childrens_school", "childcare", "other"}

// CustodyValues are the allowed values of Terms.Custody.
var CustodyValues = []string{"protected", "restrained", "joint"}

// VisitationValues are the allowed values of Terms.Visitation.
var VisitationValues = []string{"none", "supervised", "unsupervised"}
