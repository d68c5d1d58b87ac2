package ccpor

import "time"

// ServiceStatus says whether and how the restrained person learned of the
// order. It matters in the field: a violation (PC 273.6) and the federal
// firearm bar need knowledge or notice of the order.
type ServiceStatus string

// Service statuses (domain.md §3.4).
const (
	ServedInCourt  ServiceStatus = "served_in_court" // present at the hearing, FC 6384(a)
	ServedPersonal ServiceStatus = "personal"        // proof of personal service filed
	ServedMail     ServiceStatus = "mail"            // allowed by FC 6384(a) in narrow cases
	ServedVerbal   ServiceStatus = "verbal_notice"   // officer told the terms at the scene, FC 6383
	NotServed      ServiceStatus = "not_served"
	ServiceUnknown ServiceStatus = "unknown"
)

// ServiceStatuses lists every service status.
var ServiceStatuses = []ServiceStatus{ServedInCourt, ServedPersonal, ServedMail, ServedVerbal, NotServed, ServiceUnknown}

// Service records how and when the order reached the restrained person.
type Service struct {
	Status   ServiceStatus `json:"status"`
	ServedAt *time.Time    `json:"served_at,omitempty"`
	ServedBy string        `json:"served_by,omitempty"` // name and badge or assignment
	Agency   string        `json:"agency,omitempty"`
	Location string        `json:"location,omitempty"`
	Notes    string        `json:"notes,omitempty"`
}

// Served reports whether the restrained person has been served or given
// notice in a way that makes the order enforceable.
func (s Service) Served() bool {
	switch s.Status {
	case ServedInCourt, ServedPersonal, ServedMail, ServedVerbal:
		return true
	}
	return false
}
