package ccpor

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The law-enforcement message modelled on the NCIC Protection Order File
// (POF, domain.md §3.2). NCIC field codes are in brackets. Confirmed, from
// the sources domain.md cites: the descriptors NAM SEX RAC DOB HGT WGT EYE
// HAI SOC OLN FBI and PPN PSX PPR PPB [S20], BRD [S23], the PCO code list
// [S19] and the fields Wisconsin makes mandatory [S21]. Marked unconfirmed:
// the codes of the issue date, expiry, court and service date, which
// domain.md lists as not checked; a CLETS adapter must check them against
// the NCIC operating manual.

// NCICFormat names the transmission payload that carries an NCICMessage
// beside the order as stored:
//
//	{"format": "ccpor-ncic-v1", "message_id", "action", "order_id",
//	 "order_version", "county", "created_at", "due_on",
//	 "ncic": {NCICMessage}, "order": {...}}
const NCICFormat = "ccpor-ncic-v1"

// NCICMessage is one order as law enforcement's protection-order file
// holds it. Addresses are never in it: the protected person's is
// confidential (FC 6252.5, 18 USC 2265(d)(3)), and the restrained
// person's, for service, is in the order sent beside it. A confidential minor is named in full, with
// Minor and Confidential set: FC 6301.5 releases the minor's identity to
// law enforcement for enforcement, and an officer at the scene must be able
// to tell that the child before them is protected; the receiving system
// keeps it from anyone else.
type NCICMessage struct {
	// CourtORI identifies the issuing court [court ORI, S21; field code
	// unconfirmed]. Until real ORIs are configured it is PlaceholderORI's
	// code and CourtORIPlaceholder says so.
	CourtORI            string          `json:"court_ori"`
	CourtORIPlaceholder bool            `json:"court_ori_placeholder,omitempty"`
	County              string          `json:"county"`
	Court               string          `json:"court,omitempty"`
	CaseNumber          string          `json:"case_number"`
	OrderType           OrderType       `json:"order_type"`
	Phase               Phase           `json:"phase"`
	Form                string          `json:"form"`
	IssuedOn            Date            `json:"issued_on"`              // [ISD?] unconfirmed
	ExpiresAt           Date            `json:"expires_at,omitzero"`    // [EXP] unconfirmed
	NonExpiring         bool            `json:"non_expiring,omitempty"` // [EXP NONEXP] unconfirmed; no date then
	TerminatedOn        Date            `json:"terminated_on,omitzero"`
	Subject             NCICSubject     `json:"subject"`
	Protected           []NCICProtected `json:"protected"` // NCIC takes one entry per protected person [S21]
	// Conditions are the PCO codes, ascending: PCOCodes, plus 02 when a
	// conduct order protects more than one person.
	Conditions []string `json:"conditions"`
	Misc       string   `json:"misc,omitempty"` // [MIS] the terms the codes cannot carry
	Brady      Brady    `json:"brady"`          // [BRD] BradyOf
	// BradyBasis says in a sentence why Brady has its value.
	BradyBasis string      `json:"brady_basis"`
	Service    NCICService `json:"service"`
}

// NCICSubject is the restrained person's name and descriptors. Race is the
// California DOJ code as entered; CARPOS converts it to NCIC's RAC codes
// (the conversion is unconfirmed).
type NCICSubject struct {
	Last      string   `json:"last"` // [NAM]
	First     string   `json:"first"`
	Middle    string   `json:"middle,omitempty"`
	Suffix    string   `json:"suffix,omitempty"`
	Aliases   []string `json:"aliases,omitempty"`
	DOB       Date     `json:"dob,omitzero"` // [DOB]
	BirthYear int      `json:"birth_year,omitempty"`
	Age       int      `json:"age,omitempty"`       // an estimate at the issue date (CLETS-001)
	Sex       string   `json:"sex,omitempty"`       // [SEX]
	Race      string   `json:"race,omitempty"`      // [RAC]
	HeightIn  int      `json:"height_in,omitempty"` // [HGT]
	WeightLb  int      `json:"weight_lb,omitempty"` // [WGT]
	Hair      string   `json:"hair,omitempty"`      // [HAI]
	Eyes      string   `json:"eyes,omitempty"`      // [EYE]
	DL        string   `json:"dl,omitempty"`        // [OLN]
	CII       string   `json:"cii,omitempty"`       // California's state ID number [SID?] unconfirmed
	FBI       string   `json:"fbi,omitempty"`       // [FBI]
	SSN       string   `json:"ssn,omitempty"`       // [SOC]
}

// NCICProtected is one protected person.
type NCICProtected struct {
	Last         string `json:"last"` // [PPN]
	First        string `json:"first"`
	Middle       string `json:"middle,omitempty"`
	Suffix       string `json:"suffix,omitempty"`
	DOB          Date   `json:"dob,omitzero"`   // [PPB]
	Sex          string `json:"sex,omitempty"`  // [PSX]
	Race         string `json:"race,omitempty"` // [PPR]
	Relationship string `json:"relationship,omitempty"`
	Minor        bool   `json:"minor,omitempty"`
	Confidential bool   `json:"confidential,omitempty"`
}

// NCICService is whether and how the restrained person was served
// (domain.md §3.3, the LASD service-update screens).
type NCICService struct {
	Status   ServiceStatus `json:"status"`
	Served   bool          `json:"served"`
	ServedAt *time.Time    `json:"served_at,omitempty"` // [service date] unconfirmed
	ServedBy string        `json:"served_by,omitempty"`
	Agency   string        `json:"agency,omitempty"`
}

// PlaceholderORI returns the stand-in court ORI of a county, "CA0" then
// the county's number in alphabetical order (01 Alameda … 58 Yuba, the
// order of California's county codes) then "0000", or "" for no
// California county. It is deterministic but not a real ORI: real court
// ORIs are configuration the registry does not hold yet.
func PlaceholderORI(county string) string {
	c, ok := CanonicalCounty(county)
	if !ok {
		return ""
	}
	return fmt.Sprintf("CA0%02d0000", slices.Index(Counties, c)+1)
}

// NCICMessageOf returns the law-enforcement message of an order.
func NCICMessageOf(o *Order) NCICMessage {
	r := &o.Restrained
	m := NCICMessage{
		CourtORI: PlaceholderORI(o.County), County: o.County, Court: o.Court,
		CaseNumber: o.CaseNumber, OrderType: o.Type, Phase: o.Phase, Form: o.Form,
		IssuedOn: o.IssuedOn, ExpiresAt: o.ExpiresAt, NonExpiring: o.Permanent,
		Subject: NCICSubject{
			Last: r.Last, First: r.First, Middle: r.Middle, Suffix: r.Suffix, Aliases: slices.Clone(r.Aliases),
			DOB: r.DOB, BirthYear: r.BirthYear, Age: r.Age, Sex: r.Sex, Race: r.Race,
			HeightIn: r.HeightIn, WeightLb: r.WeightLb, Hair: r.Hair, Eyes: r.Eyes,
		},
		Protected:  make([]NCICProtected, len(o.Protected)),
		Conditions: PCOCodes(o.Terms),
		Misc:       ncicMisc(o.Terms),
		Service: NCICService{Status: o.Service.Status, Served: o.Service.Served(),
			ServedBy: o.Service.ServedBy, Agency: o.Service.Agency},
	}
	if at := o.Service.ServedAt; at != nil {
		t := *at
		m.Service.ServedAt = &t
	}
	m.CourtORIPlaceholder = m.CourtORI != ""
	if m.NonExpiring {
		m.ExpiresAt = Date{}
	}
	if o.Terminated != nil {
		m.TerminatedOn = o.Terminated.On
	}
	if id := r.Identifiers; id != nil {
		m.Subject.DL, m.Subject.CII, m.Subject.FBI, m.Subject.SSN = id.DL, id.CII, id.FBI, id.SSN
	}
	for i, p := range o.Protected {
		m.Protected[i] = NCICProtected{Last: p.Last, First: p.First, Middle: p.Middle, Suffix: p.Suffix,
			DOB: p.DOB, Sex: p.Sex, Race: p.Race, Relationship: p.Relationship, Minor: p.Minor, Confidential: p.Confidential}
	}
	// 02 is the conduct order reaching the protected person's family or
	// household: on the forms, the other protected people (DV-110 item 3).
	if o.Terms.Conduct && len(o.Protected) > 1 {
		m.Conditions = append(m.Conditions, "02")
		slices.Sort(m.Conditions)
	}
	m.Brady, m.BradyBasis = bradyOf(o)
	return m
}

// PCOCodes returns the NCIC protection-order condition codes [PCO] the
// terms carry, ascending (domain.md §3.1; meanings from the NCIC code list
// [S19]): 01 conduct; 03 move-out; 04 stay-away; 05 no contact; 06 the
// restrained person has custody or visitation (joint custody, custody to
// them, any visitation but none); 07 firearms; 08 a term only the MIS field
// carries (other terms, peaceful contact, contact exceptions, no or
// supervised visitation); 09 custody to the protected person. 02 depends on
// who is protected, not on the terms: NCICMessageOf adds it.
func PCOCodes(t Terms) []string {
	codes := []string{}
	add := func(ok bool, code string) {
		if ok {
			codes = append(codes, code)
		}
	}
	add(t.Conduct, "01")
	add(t.MoveOut, "03")
	add(t.StayAwayYards > 0 || len(t.StayAwayPlaces) > 0, "04")
	add(t.NoContact, "05")
	add(t.Custody == "restrained" || t.Custody == "joint" || t.Visitation == "supervised" || t.Visitation == "unsupervised", "06")
	add(t.Firearms, "07")
	add(t.Other != "" || t.PeacefulContact || len(t.ContactExceptions) > 0 || t.Visitation == "none" || t.Visitation == "supervised", "08")
	add(t.Custody == "protected", "09")
	return codes
}

// ncicMisc spells out what the codes cannot: the stay-away distance and
// places (04 has neither), and the terms behind 08.
func ncicMisc(t Terms) string {
	words := func(xs []string) string { return strings.ReplaceAll(strings.Join(xs, ", "), "_", " ") }
	var parts []string
	switch {
	case t.StayAwayYards > 0 && len(t.StayAwayPlaces) > 0:
		parts = append(parts, fmt.Sprintf("stay %d yards away from the protected persons and: %s", t.StayAwayYards, words(t.StayAwayPlaces)))
	case t.StayAwayYards > 0:
		parts = append(parts, fmt.Sprintf("stay %d yards away from the protected persons", t.StayAwayYards))
	case len(t.StayAwayPlaces) > 0:
		parts = append(parts, "stay away from: "+words(t.StayAwayPlaces))
	}
	if t.PeacefulContact {
		parts = append(parts, "peaceful contact allowed")
	}
	if len(t.ContactExceptions) > 0 {
		parts = append(parts, "contact allowed for: "+words(t.ContactExceptions))
	}
	switch t.Visitation {
	case "none":
		parts = append(parts, "no visitation")
	case "supervised", "unsupervised":
		parts = append(parts, t.Visitation+" visitation")
	}
	if t.Other != "" {
		parts = append(parts, "other: "+t.Other)
	}
	return strings.Join(parts, "; ")
}

// BradyOf returns the order's NCIC Brady indicator [BRD]: Y when the order
// bars the restrained person from firearms under 18 USC 922(g)(8), N when
// it cannot, U when that turns on facts the registry does not hold. The
// federal bar needs (A) an order made after a hearing of which the person
// had actual notice, (B) restraining them from harassing, stalking or
// threatening an intimate partner or a child of the partner or of the
// person, and (C) a credible-threat finding or terms that explicitly forbid
// the use of force against them. So:
//
//   - An emergency or temporary order, made ex parte, is N whatever it says:
//     no finding supplies a hearing. (A pretrial criminal order made at
//     arraignment is "temporary" here and N too, as Prepare has it.)
//   - After a hearing, a Y or N the court gave in o.Brady stands: it records
//     findings the registry cannot see (a credible threat, a cohabitation).
//     U is what Prepare fills when nobody said, so it decides nothing.
//   - Otherwise it is Y when a protected person is an intimate partner (18
//     USC 921(a)(32): a spouse or former spouse, a coparent, a cohabitant or
//     former one) or a child, and the order has the personal-conduct terms
//     (01), whose "must not attack, strike, hit, assault" is the explicit ban
//     on force; U when such a person is protected by no conduct order (only a
//     credible-threat finding would do), or when no one protected is one but
//     a relationship is blank, unrecognised or a dating one (a dating
//     partner is an intimate partner only if they lived together or share a
//     child, which the registry does not record); N when every relationship
//     is known and none qualifies (a neighbour, a coworker, a parent).
//
// Actual notice is assumed of every order after hearing: the hearing goes
// ahead only once the restrained person has been served with notice of it.
// The indicator describes the order as made: termination or expiry leave
// it as it was, for NCIC clears the record instead.
func BradyOf(o *Order) Brady {
	b, _ := bradyOf(o)
	return b
}

func bradyOf(o *Order) (Brady, string) {
	switch {
	case o.Type == OrderEPO || o.Phase == PhaseEmergency || o.Phase == PhaseTemporary:
		return BradyNo, "not made after a hearing with notice (18 USC 922(g)(8)(A))"
	case o.Phase != PhaseAfterHearing:
		return BradyUnknown, "phase not given"
	case o.Brady == BradyYes || o.Brady == BradyNo:
		return o.Brady, "as the court found"
	}
	var partner, unknown bool
	for _, p := range o.Protected {
		switch relationClass(p.Relationship) {
		case relCovered:
			partner = true
		case relUnknown:
			unknown = true
		}
	}
	switch {
	case partner && o.Terms.Conduct:
		return BradyYes, "after a hearing, protects an intimate partner or child, and its conduct order forbids the use of force (18 USC 922(g)(8))"
	case partner:
		return BradyUnknown, "protects an intimate partner or child without a conduct order: the bar turns on a credible-threat finding the registry does not record"
	case unknown:
		return BradyUnknown, "relationship blank, unrecognised or dating: the registry cannot tell whether an intimate partner is protected (18 USC 921(a)(32))"
	}
	return BradyNo, "protects no intimate partner or child (18 USC 921(a)(32))"
}

type relation int

const (
	relUnknown relation = iota
	relCovered
	relOther
)

// relations classes the relationships the registry sees (the intake's
// vocabulary, and common synonyms) for the federal bar. A child counts
// whether the restrained person's or the partner's: 922(g)(8) covers both.
var relations = map[string]relation{
	"spouse": relCovered, "former_spouse": relCovered, "ex_spouse": relCovered,
	"husband": relCovered, "wife": relCovered, "cohabitant": relCovered,
	"former_cohabitant": relCovered, "coparent": relCovered, "co_parent": relCovered,
	"child": relCovered, "son": relCovered, "daughter": relCovered, "stepchild": relCovered,
	"dating": relUnknown, "former_dating": relUnknown, "other": relUnknown,
	"parent": relOther, "sibling": relOther, "other_relative": relOther, "grandparent": relOther,
	"grandchild": relOther, "acquaintance": relOther, "stranger": relOther, "neighbor": relOther,
	"neighbour": relOther, "coworker": relOther, "co_worker": relOther, "supervisor": relOther,
	"employer": relOther, "employee": relOther, "friend": relOther, "witness": relOther,
	"roommate": relOther, "landlord": relOther, "tenant": relOther, "classmate": relOther,
}

func relationClass(s string) relation {
	key := strings.ToLower(strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '-' || r == '_'
	}), "_"))
	return relations[key] // relUnknown when absent
}

// ncicMiscMax is the length of NCIC's MIS field, assumed (500 in NCIC's
// person files; unconfirmed for the POF).
const ncicMiscMax = 500

// NCICProblems lists what NCIC would reject in the order's message, on the
// order's own fields. None of them refuses an order: a missing descriptor
// never invalidates one (Family Code 6385(b)), and CARPOS takes the
// descriptors "if known" [S26], so such an order reaches California law
// enforcement but not the national file. The intake shows them as
// warnings so the clerk can ask for the CLETS-001.
//
// Required, confirmed: the restrained person's name, sex, race, birth date
// (California takes an age, estimated if need be, and so does this),
// height, weight and hair; a protected person's name; the court, case
// number, order type, issue date and expiry (Wisconsin's mandatory fields
// for its NCIC entries [S21]; name, age, sex and race are also CLETS-001's
// [S26]). Assumed: the MIS field's length. Not checked, for lack of a
// source: the protected person's sex, race and birth date (PSX, PPR, PPB),
// and whether NCIC's SEX codes take X.
func NCICProblems(o *Order) []FieldProblem {
	var ps []FieldProblem
	need := func(missing bool, field, detail string) {
		if missing {
			ps = append(ps, FieldProblem{Field: field, Detail: detail})
		}
	}
	need(PlaceholderORI(o.County) == "", "county", "no issuing court: the county is not a California county (ORI)")
	need(CaseKey(o.CaseNumber) == "", "case_number", "no case number")
	_, known := TypeRules[o.Type]
	need(!known, "type", "no order type")
	need(o.IssuedOn.IsZero(), "issued_on", "no issue date")
	need(!o.Permanent && o.ExpiresAt.IsZero(), "expires_at", "no expiry date, and the order is not marked permanent (EXP)")
	r := &o.Restrained
	need(r.Last == "" || r.First == "", "restrained.last", "restrained person's full name not given (NAM)")
	need(r.DOB.IsZero() && r.BirthYear == 0 && r.Age == 0, "restrained.dob", "restrained person's birth date or age not given (DOB)")
	need(r.Sex == "", "restrained.sex", "restrained person's sex not given (SEX)")
	need(r.Race == "", "restrained.race", "restrained person's race not given (RAC)")
	need(r.HeightIn == 0, "restrained.height_in", "restrained person's height not given (HGT)")
	need(r.WeightLb == 0, "restrained.weight_lb", "restrained person's weight not given (WGT)")
	need(r.Hair == "", "restrained.hair", "restrained person's hair colour not given (HAI)")
	need(len(o.Protected) == 0, "protected", "no protected person (PPN)")
	for i, p := range o.Protected {
		need(p.Last == "" || p.First == "", fmt.Sprintf("protected[%d].last", i), fmt.Sprintf("protected person %d's full name not given (PPN)", i+1))
	}
	if n := utf8.RuneCountInString(ncicMisc(o.Terms)); n > ncicMiscMax {
		ps = append(ps, FieldProblem{Field: "terms.other", Detail: fmt.Sprintf("the terms NCIC carries as text run to %d characters, over the %d of its MIS field", n, ncicMiscMax)})
	}
	return ps
}
