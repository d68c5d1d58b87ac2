package api

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/gin-gonic/gin"
)

// The clerk's intake page: the Judicial Council form of the order in
// hand, entered through the same checks as POST /api/v1/orders (Prepare,
// access, the duplicate guard), with the scan of the signed order.

const (
	// intakeRows is how many protected persons the form has room for.
	intakeRows = 4
	// submissionWait is how long a second submission of a form waits for
	// the first to be saved, to send the clerk to the same order.
	submissionWait = 20 * time.Second
	// intakeWork bounds the saving of an order once it has begun: it
	// outlives a browser that drops the request (a double click does).
	intakeWork = time.Minute
)

func (s *Server) registerIntakePages(ui *gin.RouterGroup) {
	ui.GET("/intake", s.page(s.handleIntakePage))
	ui.POST("/intake", s.page(s.handleIntakeForm))
}

// handleIntakePage shows the choice of form, or with ?form= the form.
func (s *Server) handleIntakePage(c *gin.Context) error {
	p := newIntakePage(ccpor.UserFromContext(c.Request.Context()))
	status := http.StatusOK
	if v := c.Query("form"); v != "" {
		if ch, ok := parseIntakeChoice(v); ok {
			p.choose(ch)
		} else {
			status, p.Notice = http.StatusBadRequest, "Choose the form of the signed order from the list."
		}
	}
	s.render(c, status, "intake", p.title(), p)
	return nil
}

// handleIntakeForm switches the form, or enters the order: checked as the
// API checks it, refused with every problem beside its field and the
// values kept, stopped with the candidates when it looks like an order
// already registered, and entered once however often the form is sent.
func (s *Server) handleIntakeForm(c *gin.Context) error {
	in, err := s.readIntakeForm(c)
	if in != nil {
		defer in.remove()
	}
	if err != nil {
		return err
	}
	u := ccpor.UserFromContext(c.Request.Context())
	p := newIntakePage(u)
	p.Values, p.Submission = keptValues(in.values), in.values.Get("submission")
	step := in.values.Get("step")
	ch, ok := parseIntakeChoice(in.values.Get("current"))
	if step == "switch" {
		ch, ok = parseIntakeChoice(in.values.Get("form"))
	}
	if !ok {
		p.Notice = "Choose the form of the signed order from the list."
		s.render(c, http.StatusBadRequest, "intake", p.title(), p)
		return nil
	}
	p.choose(ch)
	p.ScanDropped = in.scan != nil || in.refused != nil
	if step == "switch" {
		s.render(c, http.StatusOK, "intake", p.title(), p)
		return nil
	}
	if p.Submission == "" || !validIdempotencyKey(p.Submission) {
		p.Submission = newSubmissionKey()
		p.Notice = "This form had lost its submission key, which keeps an order from being entered twice: check the values and submit again."
		s.render(c, http.StatusBadRequest, "intake", p.title(), p)
		return nil
	}
	o := p.order(s.Now(), step == "override")
	if len(p.Summary) > 0 {
		s.render(c, http.StatusBadRequest, "intake", p.title(), p)
		return nil
	}
	if step == "override" && o.OverrideReason == "" {
		// Checked again without the override: the panel comes back
		// with this beside the reason.
		p.Problems["override_reason"] = []string{"Say why this is a different order."}
	}
	if err := mayEnter(u, o); err != nil {
		return err
	}
	return s.enterIntake(c, p, o, in)
}

// enterIntake saves a valid order under the form's submission key: the
// first submission does the work, and any later one (a double click, a
// reload) is sent to the order the first one entered.
func (s *Server) enterIntake(c *gin.Context, p *intakePage, o *ccpor.Order, in *intakeInput) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), intakeWork)
	defer cancel()
	u := ccpor.UserFromContext(ctx)
	key := "intake " + p.Submission
	var claim *store.IdempotencyClaim
	if s.Keys != nil {
		var err error
		if claim, err = s.claimSubmission(c.Request.Context(), ctx, u.ID, key, in.fingerprint()); err != nil {
			return err
		}
		switch claim.State {
		case store.IdempotencyDone:
			return s.replayIntake(c, p, claim.Response)
		case store.IdempotencyBusy:
			p.Notice = "This form is still being saved from an earlier submission. Wait a minute, then search for the order before entering it again."
			s.render(c, http.StatusConflict, "intake", p.title(), p)
			return nil
		case store.IdempotencyMismatch:
			p.Submission = newSubmissionKey()
			p.Notice = "This form was already used to enter an order with other values. Check the values below: submitting again enters them as another order."
			s.render(c, http.StatusConflict, "intake", p.title(), p)
			return nil
		}
	}
	// The key is released when nothing was saved, so that the form can
	// be corrected or sent with a reason; once the order exists it leads
	// there, whatever fails (or panics) after.
	var saved *savedOrder
	defer func() {
		switch {
		case claim == nil:
		case saved != nil:
			s.completeSubmission(ctx, u.ID, key, claim, *saved)
		default:
			if err := s.Keys.ReleaseIdempotencyKey(ctx, u.ID, key, claim.Claim); err != nil {
				s.Logger.Error("release intake submission", "err", err)
			}
		}
	}()
	stored, err := s.enter(ctx, o)
	if !stored {
		return s.refuseIntake(c, p, err)
	}
	saved = &savedOrder{ID: o.ID, Form: o.Form, CaseNumber: o.CaseNumber}
	if err != nil {
		return err
	}
	saved.ScanProblem = s.storeIntakeScan(ctx, o, in)
	return s.answerIntake(c, p, *saved)
}

// refuseIntake shows why an order was not saved: the candidates of a
// likely duplicate, the order it duplicates, or the guard's own refusal.
func (s *Server) refuseIntake(c *gin.Context, p *intakePage, err error) error {
	var dup *likelyDuplicate
	var e *ccpor.Error
	switch {
	case errors.As(err, &dup):
		p.Duplicates = dup.candidates
	case errors.As(err, &e) && e.Existing != "":
		p.Existing, p.ExistingMessage = e.Existing, e.Message
	case ccpor.ErrorCode(err) == ccpor.EUnavailable:
		p.Notice = "The duplicate check is unavailable, so nothing was saved: try again in a minute."
		s.render(c, http.StatusServiceUnavailable, "intake", p.title(), p)
		return nil
	case ccpor.ErrorCode(err) == ccpor.EInvalid:
		p.Notice = ccpor.ErrorMessage(err)
		if e != nil {
			for _, fp := range e.Problems {
				p.problem(fp.Field, fp.Detail)
			}
		}
		s.render(c, http.StatusBadRequest, "intake", p.title(), p)
		return nil
	default:
		return err
	}
	s.render(c, http.StatusConflict, "intake", p.title(), p)
	return nil
}

// savedOrder is what the answer to an entered form says, kept with its
// submission key to be given again to a second submission.
type savedOrder struct {
	ID         string `json:"order_id"`
	Form       string `json:"form"`
	CaseNumber string `json:"case_number"`
	// ScanProblem says why the attached scan was not kept.
	ScanProblem string `json:"scan_problem,omitempty"`
}

// answerIntake sends the clerk to the order, or, when its scan was not
// kept, says so on a page of its own: the order stands without it.
func (s *Server) answerIntake(c *gin.Context, p *intakePage, saved savedOrder) error {
	if saved.ScanProblem == "" {
		c.Redirect(http.StatusSeeOther, "/orders/"+saved.ID)
		return nil
	}
	p.Saved = &saved
	c.Header("Location", "/orders/"+saved.ID)
	s.render(c, http.StatusCreated, "intake", "Order entered without its scan", p)
	return nil
}

func (s *Server) replayIntake(c *gin.Context, p *intakePage, r *store.IdempotentResponse) error {
	var saved savedOrder
	if err := json.Unmarshal(r.Body, &saved); err != nil || saved.ID == "" {
		return fmt.Errorf("intake submission kept without its order: %q", r.Body)
	}
	c.Header("Idempotent-Replayed", "true")
	return s.answerIntake(c, p, saved)
}

// claimSubmission claims a form's submission key, waiting while an
// earlier submission of the same form is being saved (the browser shows
// the last answer, so the second of a double click must lead to the
// order too). It stops waiting when the client does.
func (s *Server) claimSubmission(client, ctx context.Context, userID int64, key string, fp []byte) (*store.IdempotencyClaim, error) {
	deadline := time.Now().Add(submissionWait)
	for {
		claim, err := s.Keys.ClaimIdempotencyKey(ctx, userID, key, fp)
		if err != nil || claim.State != store.IdempotencyBusy || time.Now().After(deadline) {
			return claim, err
		}
		select {
		case <-client.Done():
			return claim, nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Server) completeSubmission(ctx context.Context, userID int64, key string, claim *store.IdempotencyClaim, saved savedOrder) {
	if claim == nil {
		return
	}
	body, err := json.Marshal(saved)
	if err == nil {
		status := http.StatusSeeOther
		if saved.ScanProblem != "" {
			status = http.StatusCreated
		}
		err = s.Keys.CompleteIdempotencyKey(ctx, userID, key, claim.Claim, store.IdempotentResponse{
			Status: status, Header: map[string]string{"Location": "/orders/" + saved.ID}, Body: body})
	}
	if err != nil {
		// The order stands; only a second submission would now be
		// refused as its exact duplicate instead of sent to it.
		s.Logger.Error("keep intake submission", "err", err)
	}
}

func newSubmissionKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// storeIntakeScan keeps the scan that came with an entered order, checked
// exactly as an upload to the API is, and returns why it was not kept, if
// it was not. The order stands either way.
func (s *Server) storeIntakeScan(ctx context.Context, o *ccpor.Order, in *intakeInput) string {
	refused := func(code, message string) string {
		detail, _ := json.Marshal(gin.H{"code": code, "message": message, "filename": in.filename()})
		if err := s.Audit.AppendAudit(ctx, &store.AuditEntry{Action: "document.upload", OrderID: o.ID,
			Outcome: store.AuditInvalid, Detail: detail}); err != nil {
			s.Logger.Error("audit a refused scan", "err", err)
		}
		return message
	}
	if in.refused != nil {
		return refused(in.refused.code, in.refused.message)
	}
	up := in.scan
	if up == nil {
		return ""
	}
	if err := mayAddDocuments(ctx, o); err != nil {
		return refused("forbidden", ccpor.ErrorMessage(err))
	}
	_, _, err := s.keepScan(ctx, o, up)
	var ref *refusal
	switch {
	case errors.As(err, &ref):
		return refused(ref.code, ref.message)
	case ccpor.ErrorCode(err) == ccpor.EUnavailable:
		return refused("unavailable", ccpor.ErrorMessage(err))
	case err != nil:
		s.Logger.Error("store intake scan", "order", o.ID, "err", err)
		return "The scan could not be checked or stored (internal error)."
	}
	return ""
}

// intakeInput is a posted intake form: its fields, and the scan, if one
// was attached, in a temporary file, or why it was refused on arrival.
type intakeInput struct {
	values  url.Values
	scan    *upload
	refused *refusal
}

func (in *intakeInput) remove() {
	if in.scan != nil {
		in.scan.remove()
	}
}

func (in *intakeInput) filename() string {
	if in.scan != nil {
		return in.scan.filename
	}
	return ""
}

// fingerprint identifies what a submission asks for: its values, not
// its form token or key, nor the scan, which the order's page shows.
func (in *intakeInput) fingerprint() []byte {
	v := keptValues(in.values)
	v.Set("step", in.values.Get("step"))
	h := sha256.New()
	io.WriteString(h, "POST /intake\n"+v.Encode())
	return h.Sum(nil)
}

// readIntakeForm takes the posted form's fields and receives its scan (the
// part "scan") into a temporary file under the document cap, hashed as it
// goes. The form-token check (uiAuthenticate) has already parsed the body,
// capped, with any file past the engine's MaxMultipartMemory on disk.
func (s *Server) readIntakeForm(c *gin.Context) (*intakeInput, error) {
	in := &intakeInput{values: url.Values{}}
	r := c.Request
	if r.MultipartForm == nil {
		return in, ccpor.Errorf(ccpor.EInvalid, "The intake form must be sent as multipart/form-data.")
	}
	for k, vs := range r.PostForm {
		in.values[k] = vs
	}
	files := r.MultipartForm.File["scan"]
	if len(files) == 0 {
		return in, nil
	}
	if len(files) > 1 {
		return in, ccpor.Errorf(ccpor.EInvalid, "Attach one scan of the signed order.")
	}
	f, err := files[0].Open()
	if err != nil {
		return in, fmt.Errorf("open parsed scan: %w", err)
	}
	defer f.Close()
	return in, in.receive(f, files[0].Filename, files[0].Header.Get("Content-Type"), s.maxDocumentBytes())
}

// receive streams the scan to a temporary file, hashing it, as an API
// upload is received. A file over the cap or empty is refused on arrival
// (the order is still entered); a cut-short upload fails the request.
func (in *intakeInput) receive(r io.Reader, filename, declared string, limit int64) error {
	up := &upload{kind: ccpor.DocSignedOrder}
	err := up.receive(r, filename, declared, limit)
	var ref *refusal
	if errors.As(err, &ref) {
		up.remove()
		in.refused = ref
		return nil
	}
	in.scan = up
	return err
}

// intakeChoice is one Judicial Council form a clerk may enter: the
// order's type, its phase, and the form.
type intakeChoice struct {
	Type  ccpor.OrderType
	Phase ccpor.Phase
	Form  string
}

// Value is the choice as a form sends it.
func (ch intakeChoice) Value() string {
	return string(ch.Type) + "/" + string(ch.Phase) + "/" + ch.Form
}

// PhaseWords is the phase as the form's caption says it.
func (ch intakeChoice) PhaseWords() string {
	if ch.Type == ccpor.OrderCPO {
		return map[ccpor.Phase]string{ccpor.PhaseTemporary: "pretrial", ccpor.PhaseAfterHearing: "post-conviction"}[ch.Phase]
	}
	return map[ccpor.Phase]string{ccpor.PhaseEmergency: "emergency", ccpor.PhaseTemporary: "temporary, until the hearing",
		ccpor.PhaseAfterHearing: "after hearing"}[ch.Phase]
}

// Label names the choice in a list.
func (ch intakeChoice) Label() string {
	s := ch.Form + " · " + ch.Rule().Name + ", " + ch.PhaseWords()
	switch ch.Form {
	case "CR-160":
		s += " (domestic violence)"
	case "CR-161":
		s += " (other than domestic violence)"
	}
	return s
}

// Rule is the law of the choice's order type.
func (ch intakeChoice) Rule() ccpor.TypeRule { return ccpor.TypeRules[ch.Type] }

// intakeChoices are the forms entered at intake, in the registry's order
// of types. Renewals (DV-730, CH-730, EA-730) extend an order already
// registered, so they are not among them.
var intakeChoices = func() []intakeChoice {
	var out []intakeChoice
	for _, t := range ccpor.OrderTypes {
		for _, ph := range []ccpor.Phase{ccpor.PhaseEmergency, ccpor.PhaseTemporary, ccpor.PhaseAfterHearing} {
			for _, f := range ccpor.TypeRules[t].Forms[ph] {
				if !strings.HasSuffix(f, "-730") {
					out = append(out, intakeChoice{t, ph, f})
				}
			}
		}
	}
	return out
}()

func parseIntakeChoice(v string) (intakeChoice, bool) {
	for _, ch := range intakeChoices {
		if ch.Value() == v {
			return ch, true
		}
	}
	return intakeChoice{}, false
}

// intakeGroup is the choices of one order type, for the list.
type intakeGroup struct {
	Name    string
	Choices []intakeChoice
}

// termSections are the parts of the terms an order type's forms have,
// beyond those all have (conduct, contact, stay-away, firearms, other).
type termSections struct {
	Peaceful   bool // peaceful contact only (the CR-160's and the DV forms')
	MoveOut    bool
	Custody    bool // DV-140 attachment; EPO-001 temporary custody
	Visitation bool
	Children   bool // exceptions for court-ordered visitation and child exchange
}

var intakeTerms = map[ccpor.OrderType]termSections{
	ccpor.OrderDV:  {Peaceful: true, MoveOut: true, Custody: true, Visitation: true, Children: true},
	ccpor.OrderCPO: {Peaceful: true, Children: true},
	ccpor.OrderCH:  {},
	ccpor.OrderEA:  {MoveOut: true},
	ccpor.OrderJV:  {MoveOut: true, Visitation: true, Children: true},
	ccpor.OrderSV:  {},
	ccpor.OrderWV:  {},
	ccpor.OrderEPO: {MoveOut: true, Custody: true, Children: true},
}

// option is one entry of a select, checkbox group or datalist.
type option struct{ Value, Label string }

var (
	sexOptions        = []option{{"M", "male (M)"}, {"F", "female (F)"}, {"X", "nonbinary (X)"}}
	raceOptions       = sortedOptions(ccpor.RaceCodes)
	hairOptions       = []option{{"BAL", "bald"}, {"BLK", "black"}, {"BLN", "blond or strawberry"}, {"BRO", "brown"}, {"GRY", "gray or partly gray"}, {"RED", "red or auburn"}, {"SDY", "sandy"}, {"WHI", "white"}, {"XXX", "unknown"}}
	eyeOptions        = []option{{"BLK", "black"}, {"BLU", "blue"}, {"BRO", "brown"}, {"GRN", "green"}, {"GRY", "gray"}, {"HAZ", "hazel"}, {"MAR", "maroon"}, {"MUL", "multicolored"}, {"XXX", "unknown"}}
	custodyOptions    = []option{{"protected", "to the protected person"}, {"restrained", "to the restrained person"}, {"joint", "joint"}}
	visitationOptions = []option{{"none", "none"}, {"supervised", "supervised"}, {"unsupervised", "unsupervised"}}
	placeLabels       = map[string]string{"residence": "home", "workplace": "workplace", "school": "school", "vehicle": "vehicle",
		"childrens_school": "children's school", "childcare": "children's child care", "other": "other place (write it under other orders)"}
	exceptionLabels = map[string]string{"court_ordered_visitation": "court-ordered visitation", "child_exchange": "safe exchange of children",
		"attorney": "through a lawyer", "process_server": "to serve legal papers", "court_proceedings": "at court hearings"}
)

func sortedOptions(codes map[string]string) []option {
	out := make([]option, 0, len(codes))
	for code, label := range codes {
		out = append(out, option{code, label + " (" + code + ")"})
	}
	slices.SortFunc(out, func(a, b option) int { return cmp.Compare(a.Label, b.Label) })
	return out
}

func labelled(values []string, labels map[string]string) []option {
	out := make([]option, len(values))
	for i, v := range values {
		out[i] = option{v, cmp.Or(labels[v], strings.ReplaceAll(v, "_", " "))}
	}
	return out
}

// intakePage is what intake.html shows: the choice of form, the form with
// what was typed and its problems, the candidates of a likely duplicate,
// or an order saved without its scan.
type intakePage struct {
	Groups      []intakeGroup
	Juvenile    bool // whether the user may enter juvenile orders
	Choice      intakeChoice
	Terms       termSections
	Counties    []string
	FixedCounty string
	Values      url.Values
	Submission  string
	Problems    map[string][]string // by input name
	Summary     []intakeProblem
	Notice      string
	// ScanDropped says a scan came with a post that saved nothing.
	ScanDropped     bool
	Duplicates      []Candidate
	Existing        string
	ExistingMessage string
	Saved           *savedOrder
	// Computed is the expiry Prepare gave a form whose expiry was left
	// blank.
	Computed string
}

// intakeProblem is one problem in the summary above the form.
type intakeProblem struct {
	Field, ID, Label, Detail string
}

func newIntakePage(u *ccpor.User) *intakePage {
	p := &intakePage{Values: url.Values{}, Problems: map[string][]string{}, Counties: ccpor.Counties,
		Submission: newSubmissionKey(), FixedCounty: u.County}
	p.Juvenile = u.MaySee(ccpor.OrderAccess{Type: ccpor.OrderJV, County: u.County})
	for _, ch := range intakeChoices {
		if ch.Type == ccpor.OrderJV && !p.Juvenile {
			continue
		}
		if n := len(p.Groups); n == 0 || p.Groups[n-1].Choices[0].Type != ch.Type {
			p.Groups = append(p.Groups, intakeGroup{Name: ch.Rule().Name})
		}
		g := &p.Groups[len(p.Groups)-1]
		g.Choices = append(g.Choices, ch)
	}
	if u.County != "" {
		p.Values.Set("county", u.County)
	}
	return p
}

func (p *intakePage) choose(ch intakeChoice) { p.Choice, p.Terms = ch, intakeTerms[ch.Type] }

func (p *intakePage) title() string {
	if p.Choice.Form == "" {
		return "New order"
	}
	return "New order · " + p.Choice.Form
}

// Divisions are the divisions the chosen type may come from, when there
// is a choice to make.
func (p *intakePage) Divisions() []ccpor.Division {
	if d := p.Choice.Rule().Divisions; len(d) > 1 {
		return d
	}
	return nil
}

// ExpiryRule says what the law does with a blank expiry date; Prepare
// does it.
func (p *intakePage) ExpiryRule() string {
	r := p.Choice.Rule()
	switch {
	case p.Choice.Phase == ccpor.PhaseEmergency:
		return "Set by law: the close of the 5th court day or the 7th calendar day after issuance, whichever is earlier (Family Code 6256). A date written on the order is replaced."
	case p.Choice.Type == ccpor.OrderCPO || p.Choice.Phase == ccpor.PhaseAfterHearing && r.BlankYears > 0:
		return fmt.Sprintf("Blank = %d years after issuance, under %s; at most %d years.", r.BlankYears, r.BlankRule, r.MaxYears)
	case p.Choice.Phase == ccpor.PhaseTemporary:
		// Prepare's temporaryDefaultDays, unexported.
		return "Usually the hearing date. Blank = 21 days after issuance, the hearing deadline."
	}
	return fmt.Sprintf("Required: at most %d years after issuance (%s).", r.MaxYears, r.Statute)
}

// ExceptionOptions are the contact exceptions the chosen type's form has.
func (p *intakePage) ExceptionOptions() []option {
	out := labelled(ccpor.ContactExceptions, exceptionLabels)
	if !p.Terms.Children {
		out = slices.DeleteFunc(out, func(o option) bool { return o.Value == "court_ordered_visitation" || o.Value == "child_exchange" })
	}
	return out
}

// PlaceOptions are the stay-away places.
func (p *intakePage) PlaceOptions() []option {
	out := labelled(ccpor.StayAwayPlaces, placeLabels)
	if !p.Terms.Children {
		out = slices.DeleteFunc(out, func(o option) bool { return o.Value == "childrens_school" || o.Value == "childcare" })
	}
	return out
}

// ServiceOptions are the service statuses, "unknown" first: a form
// left alone says nothing about service.
func (p *intakePage) ServiceOptions() []option {
	out := []option{{string(ccpor.ServiceUnknown), "not known"}}
	for _, st := range ccpor.ServiceStatuses {
		if st != ccpor.ServiceUnknown {
			out = append(out, option{string(st), strings.ReplaceAll(string(st), "_", " ")})
		}
	}
	return out
}

// Hair and Eyes are the NCIC codes offered as suggestions.
func (p *intakePage) Hair() []option { return hairOptions }
func (p *intakePage) Eyes() []option { return eyeOptions }

// Rows numbers the protected persons' rows.
func (p *intakePage) Rows() []int {
	rows := make([]int, intakeRows)
	for i := range rows {
		rows[i] = i
	}
	return rows
}

// V is the value typed into a field; Has whether a checkbox or option
// with that value was chosen.
func (p *intakePage) V(name string) string { return p.Values.Get(name) }

func (p *intakePage) Has(name, value string) bool { return slices.Contains(p.Values[name], value) }

// intakeField is one input as the template draws it: a select or a
// group of checkboxes with its Options, a coded field with the datalist
// of its codes (List).
type intakeField struct {
	ID, Name, Label, Hint, Value, Type string
	Values                             []string
	Problems                           []string
	Required                           bool
	Options                            []option
	// Blank names a select's empty choice; none when empty.
	Blank string
	List  string
}

// Has reports whether the option with value v is chosen.
func (f intakeField) Has(v string) bool { return slices.Contains(f.Values, v) }

// DescribedBy names the hint and problem that describe the input.
func (f intakeField) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if len(f.Problems) > 0 {
		ids = append(ids, f.ID+"-problem")
	}
	return strings.Join(ids, " ")
}

// F is the field of that name; in a protected person's row, R.
func (p *intakePage) F(name string) intakeField {
	l := intakeLabels[name]
	f := intakeField{ID: fieldID(name), Name: name, Label: l.label, Hint: l.hint, Value: p.V(name),
		Values: p.Values[name], Problems: p.Problems[name], Required: l.required, Blank: "not given"}
	switch name {
	case "restrained.sex":
		f.Options = sexOptions
	case "restrained.race":
		f.Options = raceOptions
	case "restrained.hair":
		f.Options, f.List = hairOptions, "hair-codes"
	case "restrained.eyes":
		f.Options, f.List = eyeOptions, "eye-codes"
	case "terms.custody":
		f.Options = custodyOptions
	case "terms.visitation":
		f.Options = visitationOptions
	case "terms.contact_exceptions":
		f.Options = p.ExceptionOptions()
	case "terms.stay_away_places":
		f.Options = p.PlaceOptions()
	case "service.status":
		f.Options, f.Blank = p.ServiceOptions(), ""
	}
	if strings.HasSuffix(name, "dob") || strings.HasSuffix(name, "_on") || strings.HasSuffix(name, "_at") {
		// A date that is not one would show blank in a date picker:
		// it is shown as typed, to be corrected.
		f.Type = "date"
		if _, err := ccpor.ParseDate(f.Value); f.Value != "" && err != nil {
			f.Type = "text"
		}
	}
	return f
}

// R is the field part of the protected person in row i.
func (p *intakePage) R(i int, part string) intakeField {
	f := p.F(fmt.Sprintf("protected[%d].%s", i, part))
	l := intakeLabels["protected."+part]
	f.Label, f.Hint, f.Required = l.label, l.hint, l.required && i == 0
	return f
}

// Hidden are the values of the form as hidden fields, for the duplicate
// panel's form, which sends the same order again with a reason.
func (p *intakePage) Hidden() []option {
	var out []option
	for _, k := range slices.Sorted(maps.Keys(p.Values)) {
		if k == "override_reason" {
			continue
		}
		for _, v := range p.Values[k] {
			out = append(out, option{k, v})
		}
	}
	return out
}

var idUnsafe = regexp.MustCompile(`[^a-z0-9]+`)

func fieldID(name string) string {
	return "f-" + strings.Trim(idUnsafe.ReplaceAllString(name, "-"), "-")
}

type fieldLabel struct {
	label, hint string
	required    bool
}

// intakeLabels are the fields of the form; only these are read and kept.
var intakeLabels = map[string]fieldLabel{
	"case_number":              {"Case number", "as on the order", true},
	"county":                   {"County", "", true},
	"court":                    {"Court", "courthouse or department", false},
	"division":                 {"Division", "", false},
	"issued_on":                {"Date issued", "", true},
	"expires_at":               {"Expires on", "", false},
	"restrained.first":         {"First name", "NFN when none", true},
	"restrained.middle":        {"Middle name", "", false},
	"restrained.last":          {"Last name", "", true},
	"restrained.suffix":        {"Suffix", "Jr, Sr, III", false},
	"restrained.dob":           {"Date of birth", "", false},
	"restrained.sex":           {"Sex", "", false},
	"restrained.race":          {"Race", "", false},
	"restrained.height_ft":     {"Height, feet", "", false},
	"restrained.height_inches": {"Height, inches", "", false},
	"restrained.weight_lb":     {"Weight", "pounds", false},
	"restrained.hair":          {"Hair", "NCIC code", false},
	"restrained.eyes":          {"Eyes", "NCIC code", false},
	"protected.first":          {"First name", "", true},
	"protected.middle":         {"Middle name", "", false},
	"protected.last":           {"Last name", "", true},
	"protected.dob":            {"Date of birth", "", false},
	"protected.relationship":   {"Relationship", "to the restrained person", false},
	"protected.minor":          {"Minor", "", false},
	"protected.confidential":   {"Identity confidential (FC 6301.5)", "", false},
	"terms.conduct":            {"Personal conduct orders", "no abuse, threats, stalking", false},
	"terms.contact":            {"Contact", "", false},
	"terms.contact_exceptions": {"Contact allowed only", "", false},
	"terms.stay_away_yards":    {"Stay away, yards", "blank when none", false},
	"terms.stay_away_places":   {"From", "", false},
	"terms.move_out":           {"Move out of the shared home", "", false},
	"terms.firearms":           {"No firearms or ammunition", "relinquish them", false},
	"terms.custody":            {"Child custody", "", false},
	"terms.visitation":         {"Visitation", "", false},
	"terms.other":              {"Other orders", "as written on the form", false},
	"service.status":           {"Service", "", false},
	"service.served_at":        {"Served on", "", false},
	"notes":                    {"Notes", "", false},
	"override_reason":          {"Why it is a different order", "kept in the order's history and the audit trail", true},
}

var (
	rowField  = regexp.MustCompile(`^protected\[([0-9]+)\]\.([a-z_]+)$`)
	rowPrefix = regexp.MustCompile(`^protected\[([0-9]+)\]`)
)

// isField reports whether the form has an input of that name.
func isField(name string) bool {
	if m := rowField.FindStringSubmatch(name); m != nil {
		n, err := strconv.Atoi(m[1])
		_, ok := intakeLabels["protected."+m[2]]
		return ok && err == nil && n < intakeRows
	}
	_, ok := intakeLabels[name]
	return ok && !strings.HasPrefix(name, "protected.")
}

// keptValues are the values of the form's inputs: what the page shows
// again, without the form token, the submission key and the buttons.
func keptValues(in url.Values) url.Values {
	out := url.Values{}
	for k, vs := range in {
		if isField(k) {
			out[k] = vs
		}
	}
	return out
}

// problem records a problem of an input (or, for a field the page has no
// input for, of the form) for the summary and beside the input.
func (p *intakePage) problem(field, detail string) {
	if r, size := utf8.DecodeRuneInString(detail); unicode.IsLower(r) {
		detail = string(unicode.ToUpper(r)) + detail[size:]
	}
	if !strings.HasSuffix(detail, ".") {
		detail += "."
	}
	ip := intakeProblem{Field: field, Detail: detail, Label: strings.ReplaceAll(field, "_", " ")}
	if l, ok := intakeLabels[field]; ok && l.label != "" {
		ip.Label = l.label
		if strings.HasPrefix(field, "restrained.") {
			ip.Label = "Restrained person: " + strings.ToLower(l.label[:1]) + l.label[1:]
		}
	} else if m := rowField.FindStringSubmatch(field); m != nil {
		n, _ := strconv.Atoi(m[1])
		l := intakeLabels["protected."+m[2]]
		ip.Label = fmt.Sprintf("Protected person %d: %s", n+1, strings.ToLower(l.label[:1])+l.label[1:])
	} else {
		ip.Label = "Form"
	}
	if isField(field) {
		ip.ID = fieldID(field)
		p.Problems[field] = append(p.Problems[field], detail)
	}
	p.Summary = append(p.Summary, ip)
}

// order builds the order the form describes, and checks it as the API
// does (Prepare), recording each problem at its input; a value that does
// not parse is named once, not again as missing.
func (p *intakePage) order(now time.Time, override bool) *ccpor.Order {
	get := func(name string) string { return strings.TrimSpace(p.V(name)) }
	bad := map[string]bool{}
	fail := func(name, detail string) { bad[name] = true; p.problem(name, detail) }
	date := func(name string) ccpor.Date {
		if get(name) == "" {
			return ccpor.Date{}
		}
		d, err := ccpor.ParseDate(get(name))
		if err != nil {
			fail(name, err.Error())
		}
		return d
	}
	number := func(name string) int {
		if get(name) == "" {
			return 0
		}
		n, err := strconv.Atoi(get(name))
		if err != nil || n < 0 {
			fail(name, fmt.Sprintf("%q is not a whole number", get(name)))
		}
		return n
	}
	ch := p.Choice
	o := &ccpor.Order{Type: ch.Type, Phase: ch.Phase, Form: ch.Form, County: get("county"), Court: get("court"),
		CaseNumber: get("case_number"), Notes: p.V("notes"), Division: ccpor.Division(get("division"))}
	if p.Divisions() == nil {
		o.Division = ""
	}
	o.IssuedOn = date("issued_on")
	if ch.Phase != ccpor.PhaseEmergency {
		o.ExpiresAt = date("expires_at")
	}
	person := func(prefix string) ccpor.Person {
		return ccpor.Person{First: get(prefix + "first"), Middle: get(prefix + "middle"), Last: get(prefix + "last"),
			DOB: date(prefix + "dob")}
	}
	r := person("restrained.")
	r.Suffix, r.Sex, r.Race = get("restrained.suffix"), get("restrained.sex"), get("restrained.race")
	r.Hair, r.Eyes = get("restrained.hair"), get("restrained.eyes")
	ft, in := number("restrained.height_ft"), number("restrained.height_inches")
	if in >= 12 {
		fail("restrained.height_inches", "inches from 0 to 11")
	}
	r.HeightIn, r.WeightLb = ft*12+in, number("restrained.weight_lb")
	o.Restrained = r
	var rowOf []int // the form's row of each protected person
	for i := range intakeRows {
		pre := fmt.Sprintf("protected[%d].", i)
		if get(pre+"first")+get(pre+"middle")+get(pre+"last")+get(pre+"dob")+get(pre+"relationship") == "" {
			continue
		}
		o.Protected = append(o.Protected, ccpor.Party{Person: person(pre), Relationship: get(pre + "relationship"),
			Minor: p.V(pre+"minor") != "", Confidential: p.V(pre+"confidential") != ""})
		rowOf = append(rowOf, i)
	}
	t := ccpor.Terms{Conduct: p.V("terms.conduct") != "", Firearms: p.V("terms.firearms") != "",
		StayAwayYards: number("terms.stay_away_yards"), Other: strings.TrimSpace(p.V("terms.other"))}
	switch get("terms.contact") {
	case "no_contact":
		t.NoContact = true
	case "peaceful":
		t.PeacefulContact = p.Terms.Peaceful
	}
	for _, e := range p.ExceptionOptions() {
		if p.Has("terms.contact_exceptions", e.Value) {
			t.ContactExceptions = append(t.ContactExceptions, e.Value)
		}
	}
	if t.StayAwayYards > 0 {
		for _, pl := range p.PlaceOptions() {
			if p.Has("terms.stay_away_places", pl.Value) {
				t.StayAwayPlaces = append(t.StayAwayPlaces, pl.Value)
			}
		}
	}
	if p.Terms.MoveOut {
		t.MoveOut = p.V("terms.move_out") != ""
	}
	if p.Terms.Custody {
		t.Custody = get("terms.custody")
	}
	if p.Terms.Visitation {
		t.Visitation = get("terms.visitation")
	}
	o.Terms = t
	o.Service.Status = ccpor.ServiceStatus(get("service.status"))
	if v := get("service.served_at"); v != "" {
		if d, err := ccpor.ParseDate(v); err != nil {
			fail("service.served_at", err.Error())
		} else {
			// A day without a time: noon in California, which no time
			// zone moves to another day.
			at := time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, ccpor.Pacific)
			o.Service.ServedAt = &at
		}
	}
	if override {
		o.OverrideReason = strings.TrimSpace(p.V("override_reason"))
	}
	var e *ccpor.Error
	err := o.Prepare(now)
	if get("expires_at") == "" && !o.ExpiresAt.IsZero() {
		p.Computed = o.ExpiresAt.String()
	}
	if errors.As(err, &e) {
		for _, fp := range e.Problems {
			field := fp.Field
			if m := rowPrefix.FindStringSubmatch(field); m != nil {
				k, _ := strconv.Atoi(m[1])
				if k < len(rowOf) {
					field = fmt.Sprintf("protected[%d]", rowOf[k]) + field[len(m[0]):]
				}
			}
			switch field {
			case "restrained.height_in":
				field = "restrained.height_ft"
			case "terms":
				field = "terms.contact"
			case "protected":
				field = "protected[0].first"
			}
			if !bad[field] {
				p.problem(field, fp.Detail)
			}
		}
	}
	slices.SortStableFunc(p.Summary, func(a, b intakeProblem) int { return cmp.Compare(fieldRank(a.Field), fieldRank(b.Field)) })
	return o
}

// fieldRank orders problems as the form's sections come.
func fieldRank(field string) int {
	for i, pre := range []string{"case_number", "county", "court", "division", "issued_on", "expires_at", "restrained.",
		"protected", "terms.", "service.", "notes"} {
		if strings.HasPrefix(field, pre) {
			return i
		}
	}
	return -1
}
