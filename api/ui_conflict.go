package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/gin-gonic/gin"
)

// The judge's conflict check as a page (issue 7, item 5): the order on the
// bench typed into a form, checked by checkConflicts and audited exactly as
// POST /api/v1/checks/conflicts is, and the answer laid out to be read on
// the bench and printed for the file: what was searched, the related orders
// side by side with the proposed one, conflicting terms marked, and which
// order prevails on each term.

func (s *Server) registerConflictPages(ui *gin.RouterGroup) {
	ui.GET("/checks/conflict", s.page(s.handleConflictPage))
	ui.POST("/checks/conflict", s.page(s.handleConflictCheck))
}

// conflictRows is how many protected people the form offers.
const conflictRows = 3

// conflictForm is the proposed order as the form holds it: text as typed,
// so a refused form comes back as it was sent.
type conflictForm struct {
	Type, Phase, County, CaseNumber, IssuedOn string
	Restrained                                conflictPersonRow
	Protected                                 [conflictRows]conflictPersonRow
	Conduct, NoContact, PeacefulContact       bool
	MoveOut, Firearms                         bool
	StayAwayYards, Custody, Visitation        string
	StayAwayPlaces, ContactExceptions         []string
	IncludeExpired                            bool
}

type conflictPersonRow struct {
	First, Middle, Last, DOB, Sex, Relationship string
	Minor                                       bool
}

func (r conflictPersonRow) empty() bool {
	return strings.TrimSpace(r.First+r.Middle+r.Last+r.DOB+r.Relationship) == ""
}

func readConflictForm(c *gin.Context) conflictForm {
	on := func(k string) bool { return c.PostForm(k) != "" }
	f := conflictForm{Type: c.PostForm("type"), Phase: c.PostForm("phase"), County: c.PostForm("county"),
		CaseNumber: c.PostForm("case_number"), IssuedOn: c.PostForm("issued_on"),
		Restrained: conflictPersonRow{First: c.PostForm("restrained.first"), Middle: c.PostForm("restrained.middle"),
			Last: c.PostForm("restrained.last"), DOB: c.PostForm("restrained.dob"), Sex: c.PostForm("restrained.sex")},
		Conduct: on("terms.conduct"), NoContact: on("terms.no_contact"), PeacefulContact: on("terms.peaceful_contact"),
		MoveOut: on("terms.move_out"), Firearms: on("terms.firearms"), StayAwayYards: c.PostForm("terms.stay_away_yards"),
		Custody: c.PostForm("terms.custody"), Visitation: c.PostForm("terms.visitation"),
		StayAwayPlaces: c.PostFormArray("terms.stay_away_places"), ContactExceptions: c.PostFormArray("terms.contact_exceptions"),
		IncludeExpired: on("include_expired")}
	for i := range f.Protected {
		k := fmt.Sprintf("protected[%d].", i)
		f.Protected[i] = conflictPersonRow{First: c.PostForm(k + "first"), Last: c.PostForm(k + "last"),
			DOB: c.PostForm(k + "dob"), Relationship: c.PostForm(k + "relationship"), Minor: on(k + "minor")}
	}
	return f
}

// order builds the proposed order and checks it as the API does
// (Order.Prepare). Problems are named by the form's fields: a protected
// person is named by its row, empty rows being skipped in the order.
func (f conflictForm) order(now time.Time) (*ccpor.Order, error) {
	var bad []ccpor.FieldProblem
	date := func(field, v string) ccpor.Date {
		if v = strings.TrimSpace(v); v == "" {
			return ccpor.Date{}
		}
		d, err := ccpor.ParseDate(v)
		if err != nil {
			bad = append(bad, ccpor.FieldProblem{Field: field, Detail: "not a real date: write it as YYYY-MM-DD"})
		}
		return d
	}
	o := &ccpor.Order{Type: ccpor.OrderType(f.Type), Phase: ccpor.Phase(f.Phase), County: f.County, CaseNumber: f.CaseNumber,
		IssuedOn: date("issued_on", f.IssuedOn),
		Restrained: ccpor.Person{First: f.Restrained.First, Middle: f.Restrained.Middle, Last: f.Restrained.Last,
			DOB: date("restrained.dob", f.Restrained.DOB), Sex: f.Restrained.Sex},
		Terms: ccpor.Terms{Conduct: f.Conduct, NoContact: f.NoContact, PeacefulContact: f.PeacefulContact,
			MoveOut: f.MoveOut, Firearms: f.Firearms, Custody: f.Custody, Visitation: f.Visitation,
			StayAwayPlaces: f.StayAwayPlaces, ContactExceptions: f.ContactExceptions}}
	if v := strings.TrimSpace(f.StayAwayYards); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad = append(bad, ccpor.FieldProblem{Field: "terms.stay_away_yards", Detail: "a whole number of yards, e.g. 100"})
		}
		o.Terms.StayAwayYards = n
	}
	var rows []int // rows[i] is the form row of o.Protected[i]
	for i, r := range f.Protected {
		if r.empty() {
			continue
		}
		rows = append(rows, i)
		o.Protected = append(o.Protected, ccpor.Party{Person: ccpor.Person{First: r.First, Last: r.Last,
			DOB: date(fmt.Sprintf("protected[%d].dob", i), r.DOB)}, Relationship: r.Relationship, Minor: r.Minor})
	}
	err := o.Prepare(now)
	var e *ccpor.Error
	if err != nil && !errors.As(err, &e) {
		return nil, err
	}
	if e != nil {
		unread := slices.Clone(bad)
		for _, p := range e.Problems {
			if m := conflictProtectedSlot.FindStringSubmatch(p.Field); m != nil {
				i, _ := strconv.Atoi(m[1])
				p.Field = fmt.Sprintf("protected[%d]%s", rows[i], m[2])
			}
			switch {
			case p.Field == "type" && strings.TrimSpace(f.Type) == "":
				p.Detail = "choose the type of order"
			case p.Field == "protected" && len(rows) == 0:
				p.Detail = "name at least one protected person"
			}
			// A date that could not be read is reported once, as unreadable.
			if !slices.ContainsFunc(unread, func(b ccpor.FieldProblem) bool { return b.Field == p.Field }) {
				bad = append(bad, p)
			}
		}
	}
	if len(bad) > 0 {
		return nil, &ccpor.Error{Code: ccpor.EInvalid, Message: "The proposed order is not valid: correct the fields marked below.", Problems: bad}
	}
	return o, nil
}

var conflictProtectedSlot = regexp.MustCompile(`^protected\[(\d+)\](.*)$`)

// conflictPage is what the page template reads.
type conflictPage struct {
	Groups []conflictGroup
	// Problem and Problems say why the form was refused or the check not
	// run; each problem links to its field when the form has one.
	Problem  string
	Problems []conflictProblem
	Result   *conflictResult
}

type conflictProblem struct{ Field, Label, Target, Detail string }

// conflictGroup is a fieldset of the form.
type conflictGroup struct {
	ID, Legend, Class, Error string
	Optional                 bool
	Fields                   []conflictField
}

type conflictField struct {
	ID, Name, Label, Hint, Kind, Value, Error string
	Checked, Numeric                          bool
	Options                                   []conflictOption
}

type conflictOption struct {
	Value, Label string
	Selected     bool
}

// conflictGroupErrors are the problems a fieldset shows rather than one field.
var conflictGroupErrors = map[string]string{"protected": "group-protected", "terms": "group-terms",
	"terms.stay_away_places": "group-places", "terms.contact_exceptions": "group-exceptions"}

// view lays the form out as fieldsets, each field with its problem.
func (f conflictForm) view(problems []ccpor.FieldProblem) ([]conflictGroup, []conflictProblem) {
	errs := map[string]string{}
	for _, p := range problems {
		if errs[p.Field] != "" {
			errs[p.Field] += "; "
		}
		errs[p.Field] += p.Detail
	}
	id := func(name string) string {
		return "cc-" + strings.NewReplacer("[", "-", "]", "", ".", "-", "_", "-").Replace(name)
	}
	field := func(kind, name, label, value string) conflictField {
		return conflictField{ID: id(name), Name: name, Label: label, Kind: kind, Value: value, Error: errs[name]}
	}
	// A select starts with its "none" choice, which sends "".
	sel := func(name, label, value, none string, vals []string, lbl func(string) string) conflictField {
		fd := field("select", name, label, value)
		fd.Options = []conflictOption{{Label: none, Selected: value == ""}}
		for _, v := range vals {
			fd.Options = append(fd.Options, conflictOption{Value: v, Label: lbl(v), Selected: v == value})
		}
		return fd
	}
	check := func(name, label string, on bool) conflictField {
		fd := field("checkbox", name, label, "yes")
		fd.Checked = on
		return fd
	}
	many := func(name string, vals, chosen []string) []conflictField {
		var out []conflictField
		for _, v := range vals {
			fd := field("checkbox", name, conflictChoiceLabel(v), v)
			fd.ID += "-" + strings.ReplaceAll(v, "_", "-")
			fd.Checked = slices.Contains(chosen, v)
			out = append(out, fd)
		}
		return out
	}
	same := func(v string) string { return v }
	typeName := func(v string) string { return v + " — " + ccpor.TypeRules[ccpor.OrderType(v)].Name }
	types := make([]string, len(ccpor.OrderTypes))
	for i, t := range ccpor.OrderTypes {
		types[i] = string(t)
	}
	r := f.Restrained
	groups := []conflictGroup{{Legend: "The order", Class: "order", Fields: []conflictField{
		sel("type", "Type", f.Type, "Choose…", types, typeName),
		sel("phase", "Phase", f.Phase, "Choose…", []string{"emergency", "temporary", "after_hearing"}, conflictPhaseLabel),
		sel("county", "County", f.County, "Choose…", ccpor.Counties, same),
		field("text", "case_number", "Case number", f.CaseNumber),
		field("date", "issued_on", "Issue date", f.IssuedOn),
	}}, {Legend: "Restrained person", Class: "person", Fields: []conflictField{
		field("text", "restrained.first", "First name", r.First),
		field("text", "restrained.middle", "Middle name", r.Middle),
		field("text", "restrained.last", "Last name", r.Last),
		field("date", "restrained.dob", "Date of birth", r.DOB),
		sel("restrained.sex", "Sex", r.Sex, "Not given", []string{"F", "M", "X"}, func(v string) string { return conflictChoiceLabel(ccpor.SexCodes[v]) }),
	}}}
	for i, p := range f.Protected {
		k := fmt.Sprintf("protected[%d].", i)
		g := conflictGroup{Legend: fmt.Sprintf("Protected person %d", i+1), Class: "person", Fields: []conflictField{
			field("text", k+"first", "First name", p.First),
			field("text", k+"last", "Last name", p.Last),
			field("date", k+"dob", "Date of birth", p.DOB),
			field("text", k+"relationship", "Relationship", p.Relationship),
			check(k+"minor", "A minor", p.Minor),
		}}
		g.Fields[3].Hint = "spouse, child…"
		if i == 0 {
			g.ID, g.Error = "group-protected", errs["protected"]
		} else {
			g.Optional = true
		}
		groups = append(groups, g)
	}
	yards := field("text", "terms.stay_away_yards", "Stay-away distance", f.StayAwayYards)
	yards.Hint, yards.Numeric = "yards", true
	groups = append(groups, conflictGroup{ID: "group-terms", Legend: "Proposed terms", Class: "terms", Error: errs["terms"], Fields: []conflictField{
		check("terms.conduct", "Personal conduct orders (no abuse, threats, stalking)", f.Conduct),
		check("terms.no_contact", "No contact, direct or indirect", f.NoContact),
		check("terms.peaceful_contact", "Peaceful contact only", f.PeacefulContact),
		check("terms.move_out", "Move out of the shared residence", f.MoveOut),
		check("terms.firearms", "No firearms or ammunition", f.Firearms),
		yards,
		sel("terms.custody", "Custody of the children", f.Custody, "No custody order", ccpor.CustodyValues, conflictCustodyLabel),
		sel("terms.visitation", "Visitation", f.Visitation, "No visitation order", ccpor.VisitationValues, conflictChoiceLabel),
	}}, conflictGroup{ID: "group-places", Legend: "Stay away from", Class: "choices", Error: errs["terms.stay_away_places"],
		Fields: many("terms.stay_away_places", ccpor.StayAwayPlaces, f.StayAwayPlaces)},
		conflictGroup{ID: "group-exceptions", Legend: "Contact allowed despite a no-contact order", Class: "choices", Error: errs["terms.contact_exceptions"],
			Fields: many("terms.contact_exceptions", ccpor.ContactExceptions, f.ContactExceptions)},
		conflictGroup{Legend: "Orders to search", Class: "scope", Fields: []conflictField{
			check("include_expired", "Include expired and terminated orders", f.IncludeExpired)}})

	// The summary lists the problems in the order of the form; those of no
	// field last.
	var list []conflictProblem
	pos := map[string]int{}
	for _, p := range problems {
		cp := conflictProblem{Field: p.Field, Label: conflictWords(p.Field), Detail: p.Detail}
		n := 0
		pos[p.Field] = math.MaxInt
		for _, g := range groups {
			if g.ID != "" && g.ID == conflictGroupErrors[p.Field] {
				cp.Label, cp.Target, pos[p.Field] = g.Legend, g.ID, n
			}
			for _, fd := range g.Fields {
				if n++; fd.Name == p.Field {
					cp.Label, cp.Target, pos[p.Field] = g.Legend+": "+fd.Label, fd.ID, n
				}
			}
		}
		list = append(list, cp)
	}
	slices.SortStableFunc(list, func(a, b conflictProblem) int { return cmp.Compare(pos[a.Field], pos[b.Field]) })
	return groups, list
}

func conflictWords(s string) string { return strings.ReplaceAll(s, "_", " ") }

func conflictPhaseLabel(p string) string {
	return map[string]string{"emergency": "Emergency (EPO)", "temporary": "Temporary (ex parte)", "after_hearing": "After hearing"}[p]
}

// conflictChoiceLabel writes a value of the model as a form offers it.
func conflictChoiceLabel(v string) string {
	if v == "childrens_school" {
		return "Children's school"
	}
	v = conflictWords(v)
	if v == "" {
		return v
	}
	return strings.ToUpper(v[:1]) + v[1:]
}

func conflictCustodyLabel(v string) string {
	return map[string]string{"protected": "to the protected parent", "restrained": "to the restrained person", "joint": "joint"}[v]
}

func (s *Server) handleConflictPage(c *gin.Context) error {
	f := conflictForm{County: ccpor.UserFromContext(c.Request.Context()).County, IssuedOn: ccpor.DateOf(s.Now()).String()}
	groups, _ := f.view(nil)
	s.render(c, http.StatusOK, "conflict", "Conflict check", conflictPage{Groups: groups})
	return nil
}

// handleConflictCheck runs the conflict check of the order typed into the
// form. A form that is not a valid order, or a registry that cannot answer,
// comes back with the form as typed; the check is never run on a guess.
func (s *Server) handleConflictCheck(c *gin.Context) error {
	f := readConflictForm(c)
	refuse := func(err error) error {
		code := ccpor.ErrorCode(err)
		if code != ccpor.EInvalid && code != ccpor.EUnavailable {
			return err
		}
		var problems []ccpor.FieldProblem
		var e *ccpor.Error
		if errors.As(err, &e) {
			problems = e.Problems
		}
		page := conflictPage{Problem: ccpor.ErrorMessage(err)}
		page.Groups, page.Problems = f.view(problems)
		s.render(c, codes[code], "conflict", "Conflict check", page)
		return nil
	}
	o, err := f.order(s.Now())
	if err != nil {
		return refuse(err)
	}
	ctx := c.Request.Context()
	if err := s.searchReady(ctx); err != nil {
		return refuse(err)
	}
	ans, err := s.checkConflicts(ctx, o, f.IncludeExpired)
	if err != nil {
		return err
	}
	res, err := s.conflictResult(ctx, o, ans)
	if err != nil {
		return err
	}
	if err := s.auditReturned(ctx, "check.conflicts", relatedIDs(ans.Related), gin.H{"case_number": o.CaseNumber, "county": o.County,
		"related": len(ans.Related), "conflicts": len(ans.Conflicts)}); err != nil {
		return err
	}
	page := conflictPage{Result: res}
	page.Groups, _ = f.view(nil)
	s.render(c, http.StatusOK, "conflict", "Conflict check: "+res.Heading, page)
	return nil
}

// conflictResult is a conflict check's answer as the page shows it.
type conflictResult struct {
	// Outcome is "incomplete", "none", "sealed" (only orders the judge
	// may not see) or "found"; Heading says it in words.
	Outcome, Heading, Note string
	Alert                  bool
	At                     time.Time
	By, Scope              string
	Notices                []string
	Conflicts              []conflictItem
	Precedence             []conflictPrecedence
	Cards                  []conflictCard
}

type conflictItem struct {
	conflictRef
	Message string
	With    conflictOrderRef
}

// conflictRef points at a numbered conflict, with its severity in words.
type conflictRef struct {
	N                      int
	Severity, Label, Means string
	Kind                   ccpor.ConflictKind
	KindWords              string
}

type conflictOrderRef struct{ ID, Label string }

type conflictPrecedence struct {
	Term, Rule, Reason string
	Winner             conflictOrderRef
	Others             []conflictOrderRef
}

// conflictCard is one order of the side-by-side view.
type conflictCard struct {
	Key, ID         string // ID is empty for the proposed order
	Proposed        bool
	Order           *ccpor.Order
	Status          ccpor.Status
	TypeName, Phase string
	Expires         string
	Relations       []string
	Worst           *conflictRef
	People          []conflictPerson
	Terms           []conflictTerm
	Conflicts       []conflictRef
}

type conflictPerson struct {
	Name, Role, Details string
	Links               []conflictLink
}

type conflictLink struct {
	Text  string
	Score float64
	Why   []string
}

type conflictTerm struct {
	Term  ccpor.Term
	Text  string
	Marks []conflictRef
	// Precedence says whether this order prevails on the term over the
	// other orders that speak to it.
	Precedence string
	contact    bool // allows or forbids contact
	residence  bool // keeps someone out of, or away from, the residence
}

var conflictSeverities = map[ccpor.Severity][2]string{
	ccpor.SeverityBlock: {"BLOCK", "the order should not be issued as it stands"},
	ccpor.SeverityWarn:  {"WARN", "look and decide"},
	ccpor.SeverityInfo:  {"INFO", "worth knowing; both orders can be enforced"},
}

// conflictRules name the precedence rules (matching.Bench.Precedence).
var conflictRules = map[string]string{
	"only_order":           "the only order with this term",
	"epo_more_restrictive": "an emergency order, more restrictive on this term",
	"no_contact":           "a no-contact order",
	"last_criminal":        "the last-issued criminal order",
	"last_issued":          "the last-issued civil order",
}

var conflictTermNames = map[ccpor.Term]string{
	ccpor.TermContact: "Contact", ccpor.TermStayAway: "Stay-away", ccpor.TermMoveOut: "Move-out",
	ccpor.TermFirearms: "Firearms", ccpor.TermConduct: "Personal conduct", ccpor.TermCustody: "Custody and visitation",
}

func (s *Server) conflictResult(ctx context.Context, o *ccpor.Order, ans *conflictAnswer) (*conflictResult, error) {
	u := ccpor.UserFromContext(ctx)
	byID := map[string]*ccpor.Order{}
	for id, e := range ans.orders {
		// A copy: the answer's orders are as judged, unredacted.
		r := *e
		u.Redact(&r)
		byID[id] = &r
	}
	sr := ans.Searched
	scope := sr.Scope
	if scope == "all counties" {
		scope = fmt.Sprintf("all %d counties", len(ccpor.Counties))
	}
	statuses := "orders in effect only"
	if len(sr.Statuses) > 1 {
		statuses = "all orders: " + joinStatuses(sr.Statuses)
	}
	people := "people"
	if sr.People == 1 {
		people = "person"
	}
	res := &conflictResult{At: sr.At, By: u.Name, Notices: ans.Notices, Note: sr.Note,
		Scope: fmt.Sprintf("%s, %s, as of %s; %d %s of the proposed order; index position %d (%d %s indexed)",
			scope, statuses, sr.AsOf, sr.People, people, sr.IndexPosition, sr.IndexOrders, plural(int(sr.IndexOrders), "order", "orders"))}
	switch {
	case !sr.Complete:
		res.Outcome, res.Heading, res.Alert = "incomplete", "Search incomplete", true
	case len(ans.Related) > 0:
		res.Outcome = "found"
		res.Heading = fmt.Sprintf("%d related order%s found", len(ans.Related), conflictPlural(len(ans.Related)))
		if n := len(ans.Conflicts); n > 0 {
			res.Heading += fmt.Sprintf(", %d conflict%s", n, conflictPlural(n))
		}
	case len(ans.Notices) > 0:
		res.Outcome, res.Heading, res.Alert = "sealed", "A confidential order involves these people", true
	default:
		res.Outcome, res.Heading = "none", "No related orders found"
	}

	label := func(id string) conflictOrderRef {
		if id == ccpor.ProposedOrderID {
			return conflictOrderRef{Label: "the proposed order"}
		}
		if e := byID[id]; e != nil {
			return conflictOrderRef{ID: id, Label: fmt.Sprintf("%s · %s County · case %s", e.Form, e.County, e.CaseNumber)}
		}
		return conflictOrderRef{ID: id, Label: "order " + id}
	}
	// The strongest first, numbered for the marks on the cards.
	conflicts := slices.Clone(ans.Conflicts)
	rank := map[ccpor.Severity]int{ccpor.SeverityBlock: 0, ccpor.SeverityWarn: 1, ccpor.SeverityInfo: 2}
	slices.SortStableFunc(conflicts, func(a, b ccpor.Conflict) int { return rank[a.Severity] - rank[b.Severity] })
	for i, k := range conflicts {
		item := conflictItem{conflictRef: conflictRef{N: i + 1, Severity: string(k.Severity), Label: conflictSeverities[k.Severity][0],
			Means: conflictSeverities[k.Severity][1], Kind: k.Kind, KindWords: conflictWords(string(k.Kind))}, Message: k.Message}
		for _, id := range k.OrderIDs {
			if id != ccpor.ProposedOrderID {
				item.With = label(id)
			}
		}
		res.Conflicts = append(res.Conflicts, item)
	}
	for _, p := range ans.Precedence {
		item := conflictPrecedence{Term: conflictTermNames[p.Term], Rule: conflictRules[p.Rule], Reason: p.Reason, Winner: label(p.OrderID)}
		if item.Rule == "" {
			item.Rule = conflictWords(p.Rule)
		}
		for _, id := range p.Orders {
			if id != p.OrderID {
				item.Others = append(item.Others, label(id))
			}
		}
		res.Precedence = append(res.Precedence, item)
	}

	now := s.Now()
	today := ccpor.DateOf(now)
	proposed := conflictCard{Key: "proposed", Proposed: true, Order: o, Status: o.StatusAt(now),
		Relations: []string{"The order on the bench, as typed. It is not saved."}}
	res.Cards = append(res.Cards, proposed)
	for _, r := range ans.Related {
		e := byID[r.OrderID]
		if e == nil {
			continue // gone since the check read it
		}
		card := conflictCard{Key: r.OrderID, ID: r.OrderID, Order: e, Status: e.StatusAt(now)}
		card.Relations = conflictRelations(r)
		card.People = conflictPeople(o, e, r.People)
		res.Cards = append(res.Cards, card)
	}
	for i := range res.Cards {
		card := &res.Cards[i]
		e := card.Order
		card.TypeName, card.Phase = ccpor.TypeRules[e.Type].Name, conflictPhaseLabel(string(e.Phase))
		if card.Proposed {
			card.People = conflictPeople(o, o, nil)
		}
		card.Expires = expiresIn(e, today)
		if !e.Permanent && !e.ExpiresAt.IsZero() {
			card.Expires = strings.TrimSuffix(e.ExpiresAt.String()+" · "+card.Expires, " · ")
		}
		id := card.ID
		if card.Proposed {
			id = ccpor.ProposedOrderID
		}
		card.Terms = conflictTermRows(e.Terms)
		for _, k := range res.Conflicts {
			if !card.Proposed && k.With.ID != id {
				continue
			}
			card.markTerms(k.conflictRef)
			if !card.Proposed {
				card.Conflicts = append(card.Conflicts, k.conflictRef)
			}
			if card.Worst == nil {
				ref := k.conflictRef
				card.Worst = &ref
			}
		}
		for j := range card.Terms {
			t := &card.Terms[j]
			for _, p := range ans.Precedence {
				if p.Term != t.Term || len(p.Orders) < 2 || !slices.Contains(p.Orders, id) {
					continue
				}
				if p.OrderID == id {
					t.Precedence = "prevails: " + conflictRules[p.Rule]
				} else {
					t.Precedence = "yields to " + label(p.OrderID).Label
				}
			}
		}
	}
	return res, nil
}

// markTerms marks the card's terms that a conflict is about. The severity
// goes with the mark in words, so colour is never the only signal.
func (card *conflictCard) markTerms(ref conflictRef) {
	kind := ref.Kind
	hit := func(t conflictTerm) bool {
		switch kind {
		case ccpor.ConflictNoContact:
			return t.contact
		case ccpor.ConflictCustody:
			return t.Term == ccpor.TermCustody
		case ccpor.ConflictStayAway:
			return t.Term == ccpor.TermStayAway
		case ccpor.ConflictResidence:
			return t.residence
		case ccpor.ConflictFirearms:
			return t.Term == ccpor.TermFirearms
		}
		return false
	}
	marked := false
	for j := range card.Terms {
		if hit(card.Terms[j]) {
			card.Terms[j].Marks = append(card.Terms[j].Marks, ref)
			marked = true
		}
	}
	// What an order lacks is the conflict when one order prohibits
	// firearms and the other does not.
	if !marked && kind == ccpor.ConflictFirearms {
		card.Terms = append(card.Terms, conflictTerm{Term: ccpor.TermFirearms, Text: "No firearms prohibition", Marks: []conflictRef{ref}})
	}
}

// conflictTermRows lists an order's terms in words, each with the term
// precedence is decided on.
func conflictTermRows(t ccpor.Terms) []conflictTerm {
	var rows []conflictTerm
	add := func(term ccpor.Term, text string, contact, residence bool) {
		rows = append(rows, conflictTerm{Term: term, Text: text, contact: contact, residence: residence})
	}
	if t.Conduct {
		add(ccpor.TermConduct, "Personal conduct orders (no abuse, threats, stalking)", false, false)
	}
	if t.NoContact {
		add(ccpor.TermContact, "No contact, direct or indirect", true, false)
	}
	if t.PeacefulContact {
		add(ccpor.TermContact, "Peaceful contact only", true, false)
	}
	for _, e := range t.ContactExceptions {
		add(ccpor.TermContact, "Contact allowed: "+conflictWords(e), true, false)
	}
	if t.StayAwayYards > 0 || len(t.StayAwayPlaces) > 0 {
		text := "Stay away"
		if t.StayAwayYards > 0 {
			text = fmt.Sprintf("Stay %d yards away", t.StayAwayYards)
		}
		if len(t.StayAwayPlaces) > 0 {
			places := make([]string, len(t.StayAwayPlaces))
			for i, p := range t.StayAwayPlaces {
				places[i] = conflictWords(p)
			}
			text += " from: " + strings.Join(places, ", ")
		}
		add(ccpor.TermStayAway, text, false, slices.Contains(t.StayAwayPlaces, "residence"))
	}
	if t.MoveOut {
		add(ccpor.TermMoveOut, "Move out of the shared residence", false, true)
	}
	if t.Firearms {
		add(ccpor.TermFirearms, "No firearms or ammunition; relinquish within 24 hours", false, false)
	}
	if t.Custody != "" {
		// Custody to the restrained person means contact with the child.
		add(ccpor.TermCustody, "Custody: "+conflictCustodyLabel(t.Custody), t.Custody == "restrained" || t.Custody == "joint", false)
	}
	if t.Visitation != "" {
		add(ccpor.TermCustody, "Visitation: "+t.Visitation, t.Visitation != "none", false)
	}
	if t.Other != "" {
		add("", "Other: "+t.Other, false, false)
	}
	return rows
}

func conflictRelations(r RelatedOrder) []string {
	var out []string
	for _, rel := range r.Relations {
		switch rel {
		case "restrained":
			out = append(out, "Restrains the same person as the proposed order.")
		case "reversed":
			out = append(out, "The same two people in reversed roles.")
		case "protected":
			out = append(out, "Protects a person the proposed order protects.")
		}
	}
	if len(out) == 0 {
		out = append(out, "A person may be the same as one of the proposed order: not enough to apply the conflict rules. Compare the people.")
	}
	if r.Follows {
		out = append(out, "The proposed order is the next step of this order's case and replaces it.")
	}
	return out
}

// conflictPeople lists e's people with their role, and for a related order
// which person of the proposed order p each may be, and why.
func conflictPeople(p, e *ccpor.Order, links []PersonLink) []conflictPerson {
	slot := func(o *ccpor.Order, name string) (*ccpor.Person, string) {
		if name == "restrained" {
			return &o.Restrained, "restrained"
		}
		if m := conflictProtectedSlot.FindStringSubmatch(name); m != nil {
			if i, _ := strconv.Atoi(m[1]); i < len(o.Protected) {
				return &o.Protected[i].Person, "protected"
			}
		}
		return nil, ""
	}
	person := func(q *ccpor.Person, role, existing string) conflictPerson {
		cp := conflictPerson{Name: q.FullName(), Role: role}
		var details []string
		if !q.DOB.IsZero() {
			details = append(details, "DOB "+q.DOB.String())
		}
		if q.Sex != "" {
			details = append(details, "sex "+q.Sex)
		}
		cp.Details = strings.Join(details, " · ")
		for _, l := range links {
			if l.Existing != existing {
				continue
			}
			ours, ourRole := slot(p, l.Proposed)
			if ours == nil {
				continue
			}
			verb := "Same person as"
			if l.Level != "match" {
				verb = "May be"
			}
			link := conflictLink{Text: fmt.Sprintf("%s the proposed order's %s person, %s", verb, ourRole, ours.FullName()), Score: l.Score}
			for _, w := range l.Explanation {
				link.Why = append(link.Why, w.Text)
			}
			cp.Links = append(cp.Links, link)
		}
		return cp
	}
	out := []conflictPerson{person(&e.Restrained, "restrained", "restrained")}
	for i := range e.Protected {
		q := &e.Protected[i]
		role := "protected"
		if q.Relationship != "" {
			role += " · " + q.Relationship
		}
		if q.Minor {
			role += " · minor"
		}
		out = append(out, person(&q.Person, role, fmt.Sprintf("protected[%d]", i)))
	}
	return out
}

func conflictPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// plural picks the form of a noun for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
