package ccpor

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The NIEM exchange document: an order as an XML document in the style of
// the NIEM Justice domain, for systems that speak NIEM rather than the
// API's JSON. Names come from NIEM 5.0 (niem-core 5.0, Justice 7.0) where
// NIEM has the concept; what NIEM lacks (the phase, form, county, case
// number, terms in detail, service, registration) is in the ccpor
// extension namespace, in augmentation elements as NIEM extends a type.
// The document is written to be read back by ParseNIEM without loss; it is
// not validated against the NIEM schemas (see the README).

// The namespaces of an exchange document, with the prefixes it uses.
const (
	NIEMCoreNamespace    = "http://release.niem.gov/niem/niem-core/5.0/"    // nc
	NIEMJusticeNamespace = "http://release.niem.gov/niem/domains/jxdm/7.0/" // j
	ExchangeNamespace    = "urn:ccpor:exchange:1.0"                         // ccpor
)

// Limits on a document read by NIEMReader, so that hostile XML cannot
// exhaust memory: the bytes of one order (or of what lies between two),
// how deep elements nest, and how many one order holds.
const (
	MaxNIEMOrderBytes = 1 << 20
	maxNIEMDepth      = 16
	maxNIEMElements   = 10000
)

// NIEMNamespaces declares the prefixes on a document's root element.
type NIEMNamespaces struct {
	CCPOR string `xml:"xmlns:ccpor,attr"`
	J     string `xml:"xmlns:j,attr"`
	NC    string `xml:"xmlns:nc,attr"`
}

// DeclareNIEM returns the declarations of the nc, j and ccpor prefixes.
func DeclareNIEM() NIEMNamespaces {
	return NIEMNamespaces{CCPOR: ExchangeNamespace, J: NIEMJusticeNamespace, NC: NIEMCoreNamespace}
}

// NIEMOrder is a j:ProtectionOrder element, ready for encoding/xml.
type NIEMOrder struct {
	XMLName    xml.Name      `xml:"j:ProtectionOrder"`
	ID         *niemID       `xml:"nc:ActivityIdentification"`
	Type       string        `xml:"nc:ActivityCategoryText,omitempty"`
	Status     *niemStatus   `xml:"nc:ActivityStatus"`
	IssuedOn   *niemDate     `xml:"nc:ActivityDate"`
	Restrained *niemPerson   `xml:"j:ProtectionOrderRestrainedPerson"`
	Protected  []*niemPerson `xml:"j:ProtectionOrderProtectedPerson"`
	// Conditions and ConditionText are NCICMessageOf's condition codes
	// and miscellaneous text: derived from the terms, which ccpor:OrderTerms
	// carries in full.
	Conditions    []string      `xml:"j:ProtectionOrderConditionCode"`
	ConditionText string        `xml:"j:ProtectionOrderConditionText,omitempty"`
	ExpiresAt     *niemDate     `xml:"j:ProtectionOrderExpirationDate"`
	Court         *niemCourt    `xml:"j:ProtectionOrderIssuingCourt"`
	Augmentation  *niemOrderAug `xml:"ccpor:ProtectionOrderAugmentation"`
}

type niemID struct {
	ID string `xml:"nc:IdentificationID"`
}

type niemStatus struct {
	Text string `xml:"nc:StatusText"`
}

type niemDate struct {
	Date     string `xml:"nc:Date,omitempty"`
	Year     string `xml:"nc:Year,omitempty"`
	DateTime string `xml:"nc:DateTime,omitempty"`
}

type niemMeasure struct {
	Value      int    `xml:"nc:MeasureIntegerValue"`
	TimeUnit   string `xml:"nc:TimeUnitCode,omitempty"`
	LengthUnit string `xml:"nc:LengthUnitCode,omitempty"`
	WeightUnit string `xml:"nc:WeightUnitCode,omitempty"`
}

type niemPerson struct {
	Age     *niemMeasure  `xml:"nc:PersonAgeMeasure"`
	Aliases []niemAlias   `xml:"nc:PersonAlternateName"`
	Birth   []niemDate    `xml:"nc:PersonBirthDate"`
	Eyes    string        `xml:"j:PersonEyeColorCode,omitempty"`
	Hair    string        `xml:"j:PersonHairColorCode,omitempty"`
	Height  *niemMeasure  `xml:"nc:PersonHeightMeasure"`
	Name    niemName      `xml:"nc:PersonName"`
	Race    string        `xml:"nc:PersonRaceText,omitempty"`
	Sex     string        `xml:"nc:PersonSexText,omitempty"`
	SSN     *niemID       `xml:"nc:PersonSSNIdentification"`
	Weight  *niemMeasure  `xml:"nc:PersonWeightMeasure"`
	Justice *niemPersonJ  `xml:"j:PersonAugmentation"`
	Ext     *niemPersonEx `xml:"ccpor:PersonAugmentation"`
}

type niemAlias struct {
	Full string `xml:"nc:PersonFullName"`
}

type niemName struct {
	Given  string `xml:"nc:PersonGivenName,omitempty"`
	Middle string `xml:"nc:PersonMiddleName,omitempty"`
	Sur    string `xml:"nc:PersonSurName,omitempty"`
	Suffix string `xml:"nc:PersonNameSuffixText,omitempty"`
	Full   string `xml:"nc:PersonFullName,omitempty"` // summaries only
}

type niemPersonJ struct {
	DL  *niemID `xml:"nc:DriverLicense>nc:DriverLicenseCardIdentification"`
	FBI *niemID `xml:"j:PersonFBIIdentification"`
	CII *niemID `xml:"j:PersonStateFingerprintIdentification"`
}

type niemPersonEx struct {
	Address      *niemAddress `xml:"ccpor:PersonAddress"`
	Relationship string       `xml:"ccpor:PartyRelationshipText,omitempty"`
	Minor        bool         `xml:"ccpor:PartyMinorIndicator,omitempty"`
	Confidential bool         `xml:"ccpor:PartyConfidentialIndicator,omitempty"`
}

type niemAddress struct {
	Line1 string `xml:"nc:LocationStreet>nc:StreetFullText,omitempty"`
	Line2 string `xml:"nc:AddressSecondaryUnitText,omitempty"`
	City  string `xml:"nc:LocationCityName,omitempty"`
	State string `xml:"nc:LocationStateUSPostalServiceCode,omitempty"`
	Zip   string `xml:"nc:LocationPostalCode,omitempty"`
}

type niemCourt struct {
	Name  string `xml:"nc:OrganizationName,omitempty"` // derived from the county
	Court string `xml:"j:CourtName,omitempty"`
}

type niemOrderAug struct {
	Phase        string            `xml:"ccpor:OrderPhaseCode,omitempty"`
	Form         string            `xml:"ccpor:OrderFormText,omitempty"`
	CaseNumber   string            `xml:"ccpor:CaseNumberText,omitempty"`
	County       string            `xml:"ccpor:CountyName,omitempty"`
	Division     string            `xml:"ccpor:CourtDivisionCode,omitempty"`
	Permanent    bool              `xml:"ccpor:OrderPermanentIndicator,omitempty"`
	Previous     *niemID           `xml:"ccpor:PreviousOrderIdentification"`
	Terminated   *niemTermination  `xml:"ccpor:OrderTermination"`
	Service      *niemService      `xml:"ccpor:OrderService"`
	Terms        *niemTerms        `xml:"ccpor:OrderTerms"`
	Brady        string            `xml:"ccpor:BradyCode,omitempty"`
	Registration *niemRegistration `xml:"ccpor:OrderRegistration"`
	Sealed       bool              `xml:"ccpor:OrderSealedIndicator,omitempty"`
	Notes        string            `xml:"ccpor:OrderNotesText,omitempty"`
	Version      int               `xml:"ccpor:OrderVersionNumber,omitempty"`
}

type niemTermination struct {
	On     niemDate `xml:"ccpor:TerminationDate"`
	Reason string   `xml:"ccpor:TerminationReasonText,omitempty"`
}

type niemService struct {
	Status   string    `xml:"ccpor:ServiceStatusCode,omitempty"`
	ServedAt *niemDate `xml:"ccpor:ServiceDate"`
	ServedBy string    `xml:"ccpor:ServedByText,omitempty"`
	Agency   string    `xml:"ccpor:ServiceAgencyName,omitempty"`
	Location string    `xml:"ccpor:ServiceLocationText,omitempty"`
	Notes    string    `xml:"ccpor:ServiceNotesText,omitempty"`
}

type niemTerms struct {
	Conduct           bool     `xml:"ccpor:ConductIndicator"`
	NoContact         bool     `xml:"ccpor:NoContactIndicator"`
	PeacefulContact   bool     `xml:"ccpor:PeacefulContactIndicator"`
	ContactExceptions []string `xml:"ccpor:ContactExceptionCode"`
	StayAwayYards     int      `xml:"ccpor:StayAwayYardsQuantity"`
	StayAwayPlaces    []string `xml:"ccpor:StayAwayPlaceCode"`
	MoveOut           bool     `xml:"ccpor:MoveOutIndicator"`
	Firearms          bool     `xml:"ccpor:FirearmsIndicator"`
	Custody           string   `xml:"ccpor:CustodyCode,omitempty"`
	Visitation        string   `xml:"ccpor:VisitationCode,omitempty"`
	Other             string   `xml:"ccpor:OtherConditionsText,omitempty"`
}

type niemRegistration struct {
	Kind               string    `xml:"ccpor:RegistrationKindCode,omitempty"`
	Jurisdiction       string    `xml:"ccpor:RegistrationJurisdictionText,omitempty"`
	IssuingCourt       string    `xml:"ccpor:OriginalCourtName,omitempty"`
	OriginalCaseNumber string    `xml:"ccpor:OriginalCaseNumberText,omitempty"`
	RegisteredOn       *niemDate `xml:"ccpor:RegistrationDate"`
	NotifyRespondent   bool      `xml:"ccpor:NotifyRespondentIndicator,omitempty"`
}

// NewNIEMOrder returns o as a j:ProtectionOrder element, every field it
// has. It writes what it is given: redact o first (User.Redact) for a
// reader who may not see all of it.
func NewNIEMOrder(o *Order) *NIEMOrder {
	n := &NIEMOrder{Type: string(o.Type), IssuedOn: niemDay(o.IssuedOn), ExpiresAt: niemDay(o.ExpiresAt),
		Restrained: niemPersonOf(&o.Restrained, nil)}
	if o.ID != "" {
		n.ID = &niemID{o.ID}
	}
	if o.Status != "" {
		n.Status = &niemStatus{string(o.Status)}
	}
	for i := range o.Protected {
		n.Protected = append(n.Protected, niemPersonOf(&o.Protected[i].Person, &o.Protected[i]))
	}
	m := NCICMessageOf(o)
	n.Conditions, n.ConditionText = m.Conditions, m.Misc
	if o.County != "" || o.Court != "" {
		n.Court = &niemCourt{Court: o.Court}
		if c, ok := CanonicalCounty(o.County); ok {
			n.Court.Name = "Superior Court of California, County of " + c
		}
	}
	t := o.Terms
	a := &niemOrderAug{Phase: string(o.Phase), Form: o.Form, CaseNumber: o.CaseNumber, County: o.County,
		Division: string(o.Division), Permanent: o.Permanent, Brady: string(o.Brady), Sealed: o.Sealed,
		Notes: o.Notes, Version: o.Version,
		Terms: &niemTerms{Conduct: t.Conduct, NoContact: t.NoContact, PeacefulContact: t.PeacefulContact,
			ContactExceptions: t.ContactExceptions, StayAwayYards: t.StayAwayYards, StayAwayPlaces: t.StayAwayPlaces,
			MoveOut: t.MoveOut, Firearms: t.Firearms, Custody: t.Custody, Visitation: t.Visitation, Other: t.Other}}
	if o.PreviousOrderID != "" {
		a.Previous = &niemID{o.PreviousOrderID}
	}
	if x := o.Terminated; x != nil {
		a.Terminated = &niemTermination{On: niemDate{Date: x.On.String()}, Reason: x.Reason}
	}
	if s := o.Service; s != (Service{}) {
		a.Service = &niemService{Status: string(s.Status), ServedBy: s.ServedBy, Agency: s.Agency, Location: s.Location, Notes: s.Notes}
		if s.ServedAt != nil {
			a.Service.ServedAt = &niemDate{DateTime: s.ServedAt.Format(time.RFC3339Nano)}
		}
	}
	if g := o.Registration; g != nil {
		a.Registration = &niemRegistration{Kind: string(g.Kind), Jurisdiction: g.Jurisdiction, IssuingCourt: g.IssuingCourt,
			OriginalCaseNumber: g.OriginalCaseNumber, RegisteredOn: niemDay(g.RegisteredOn), NotifyRespondent: g.NotifyRespondent}
	}
	n.Augmentation = a
	return n
}

// NewNIEMOrderSummary returns o as a search result lists it: the order
// and its conditions, the restrained person's name, no protected person,
// no descriptor, address or note.
func NewNIEMOrderSummary(o *Order) *NIEMOrder {
	n := NewNIEMOrder(o)
	n.Restrained = &niemPerson{Name: n.Restrained.Name}
	n.Protected = nil
	a := n.Augmentation
	a.Notes, a.Registration = "", nil
	if a.Service != nil {
		a.Service = &niemService{Status: a.Service.Status}
	}
	return n
}

func niemDay(d Date) *niemDate {
	if d.IsZero() {
		return nil
	}
	return &niemDate{Date: d.String()}
}

func niemPersonOf(p *Person, party *Party) *niemPerson {
	n := &niemPerson{Eyes: p.Eyes, Hair: p.Hair, Race: p.Race, Sex: p.Sex,
		Name: niemName{Given: p.First, Middle: p.Middle, Sur: p.Last, Suffix: p.Suffix}}
	for _, a := range p.Aliases {
		n.Aliases = append(n.Aliases, niemAlias{a})
	}
	if p.Age != 0 {
		n.Age = &niemMeasure{Value: p.Age, TimeUnit: "ANN"}
	}
	if !p.DOB.IsZero() {
		n.Birth = append(n.Birth, niemDate{Date: p.DOB.String()})
	}
	if p.BirthYear != 0 {
		n.Birth = append(n.Birth, niemDate{Year: fmt.Sprintf("%04d", p.BirthYear)})
	}
	if p.HeightIn != 0 {
		n.Height = &niemMeasure{Value: p.HeightIn, LengthUnit: "INH"}
	}
	if p.WeightLb != 0 {
		n.Weight = &niemMeasure{Value: p.WeightLb, WeightUnit: "LBR"}
	}
	if id := p.Identifiers; id != nil {
		n.Justice = &niemPersonJ{DL: optID(id.DL), FBI: optID(id.FBI), CII: optID(id.CII)}
		n.SSN = optID(id.SSN)
	}
	ext := &niemPersonEx{}
	if a := p.Address; a != nil {
		ext.Address = &niemAddress{Line1: a.Line1, Line2: a.Line2, City: a.City, State: a.State, Zip: a.Zip}
	}
	if party != nil {
		ext.Relationship, ext.Minor, ext.Confidential = party.Relationship, party.Minor, party.Confidential
	}
	if *ext != (niemPersonEx{}) {
		n.Ext = ext
	}
	return n
}

func optID(s string) *niemID {
	if s == "" {
		return nil
	}
	return &niemID{s}
}

// niemDocument is the root of an exchange document.
type niemDocument struct {
	XMLName xml.Name `xml:"ccpor:ProtectionOrderExchange"`
	NIEMNamespaces
	Orders []*NIEMOrder `xml:"j:ProtectionOrder"`
}

// MarshalNIEM returns an exchange document holding the orders, as they
// are: redact them first for a reader who may not see all of them.
func MarshalNIEM(orders ...*Order) ([]byte, error) {
	doc := niemDocument{NIEMNamespaces: DeclareNIEM()}
	for _, o := range orders {
		doc.Orders = append(doc.Orders, NewNIEMOrder(o))
	}
	return MarshalNIEMDocument(doc)
}

// MarshalNIEMDocument writes v, a root element, as an XML document.
func MarshalNIEMDocument(v any) ([]byte, error) {
	body, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(xml.Header), body...), '\n'), nil
}

// ParseNIEM reads every order of an exchange document. It stops at the
// first problem, which names the order, its line and the element.
func ParseNIEM(data []byte) ([]*Order, error) {
	r := NewNIEMReader(bytes.NewReader(data))
	var orders []*Order
	for {
		o, err := r.Next()
		if errors.Is(err, io.EOF) {
			return orders, nil
		} else if err != nil {
			if n, line := r.Where(); n > 0 {
				return nil, fmt.Errorf("order %d (line %d): %w", n, line, err)
			}
			return nil, err
		}
		orders = append(orders, o)
	}
}

// NIEMReader reads the orders of an exchange document one at a time: a
// ccpor:ProtectionOrderExchange holding j:ProtectionOrder elements, or a
// lone j:ProtectionOrder. Each order is decoded strictly: an element it
// does not know, or given twice where once is allowed, is a problem. A
// document type declaration (DOCTYPE, ENTITY) is refused, so are nesting
// deeper than 16 elements, orders over MaxNIEMOrderBytes or 10,000
// elements, and any encoding but UTF-8.
type NIEMReader struct {
	dec     *xml.Decoder
	budget  *budgetReader
	started bool
	lone    bool // the root is the one order
	err     error
	n, line int
}

// NewNIEMReader returns a reader of the document in r.
func NewNIEMReader(r io.Reader) *NIEMReader {
	br := bufio.NewReader(r)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\uFEFF")) {
		br.Discard(3)
	}
	g := &budgetReader{r: br}
	g.reset()
	d := xml.NewDecoder(g)
	d.Strict = true
	return &NIEMReader{dec: d, budget: g}
}

// Next returns the next order, not yet prepared (Order.Prepare). A
// problem with one order is an *Error (EInvalid) naming the elements at
// fault, and Next goes on with the next order; io.EOF ends the document;
// any other error — XML that is broken or refused — ends it too.
func (r *NIEMReader) Next() (*Order, error) {
	if r.err != nil {
		return nil, r.err
	}
	o, err := r.next()
	if err != nil && !errors.As(err, new(*Error)) {
		r.err = err
	}
	return o, err
}

// Where returns the number, from 1, of the order Next last read and the
// line of the document it starts on.
func (r *NIEMReader) Where() (n, line int) { return r.n, r.line }

var (
	exchangeRoot = xml.Name{Space: ExchangeNamespace, Local: "ProtectionOrderExchange"}
	orderElement = xml.Name{Space: NIEMJusticeNamespace, Local: "ProtectionOrder"}
)

func (r *NIEMReader) next() (*Order, error) {
	if r.lone {
		return nil, r.end()
	}
	for {
		r.budget.reset()
		tok, err := r.token()
		switch {
		case errors.Is(err, io.EOF) && !r.started:
			return nil, errors.New("not an XML document: no root element")
		case errors.Is(err, io.EOF):
			return nil, r.errorf("the document ends inside its root element")
		case err != nil:
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !r.started {
				r.started = true
				switch t.Name {
				case exchangeRoot:
					continue
				case orderElement:
					r.lone = true
				default:
					return nil, r.errorf("the root element is %s: an exchange document is a ccpor:ProtectionOrderExchange or a j:ProtectionOrder", prefixed(t.Name))
				}
			}
			r.n++
			r.line, _ = r.dec.InputPos()
			node, err := r.tree(t)
			if err != nil {
				return nil, err
			}
			if node.name != orderElement {
				return nil, Errorf(EInvalid, "%s is not an order: an exchange document holds j:ProtectionOrder elements.", prefixed(node.name))
			}
			return decodeNIEMOrder(node)
		case xml.EndElement:
			return nil, r.end()
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, r.errorf("text %.20q outside the orders", bytes.TrimSpace(t))
			}
		}
	}
}

// end checks that nothing but comments and space follows the root.
func (r *NIEMReader) end() error {
	for {
		tok, err := r.token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
		case xml.Comment, xml.ProcInst:
			continue
		}
		return r.errorf("content after the root element")
	}
}

// token returns the next token that is not a comment or processing
// instruction, refusing declarations: a DOCTYPE could declare entities,
// and an exchange document needs none.
func (r *NIEMReader) token() (xml.Token, error) {
	for {
		tok, err := r.dec.Token()
		switch {
		case errors.Is(err, io.EOF):
			return nil, io.EOF
		case errors.Is(err, errTooLarge):
			return nil, r.errorf("more than %d bytes in one order: refused", MaxNIEMOrderBytes)
		case err != nil:
			var syn *xml.SyntaxError
			if errors.As(err, &syn) {
				return nil, fmt.Errorf("line %d: not well-formed XML: %s", syn.Line, syn.Msg)
			}
			return nil, r.errorf("%v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, r.errorf("<!%.20s…> refused: an exchange document has no DOCTYPE or entity declarations", t)
		case xml.Comment, xml.ProcInst:
			continue
		}
		return tok, nil
	}
}

func (r *NIEMReader) errorf(format string, args ...any) error {
	line, _ := r.dec.InputPos()
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

// xmlNode is an element as read: its name, its text, its children.
type xmlNode struct {
	name xml.Name
	text []byte
	kids []*xmlNode
}

// tree reads the element that start opens, within the limits.
func (r *NIEMReader) tree(start xml.StartElement) (*xmlNode, error) {
	root := &xmlNode{name: start.Name}
	stack := []*xmlNode{root}
	count := 1
	for len(stack) > 0 {
		tok, err := r.token()
		if errors.Is(err, io.EOF) {
			return nil, r.errorf("the document ends inside %s", prefixed(stack[len(stack)-1].name))
		} else if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			if count++; count > maxNIEMElements {
				return nil, r.errorf("more than %d elements in one order: refused", maxNIEMElements)
			}
			if len(stack)+1 > maxNIEMDepth { // the root element is one more
				return nil, r.errorf("elements nested more than %d deep: refused", maxNIEMDepth)
			}
			kid := &xmlNode{name: t.Name}
			top.kids = append(top.kids, kid)
			stack = append(stack, kid)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top.text = append(top.text, t...)
		}
	}
	return root, nil
}

// budgetReader fails once more than MaxNIEMOrderBytes are read since the
// last reset. The decoder reads ahead a few kilobytes, so the limit holds
// to within that.
type budgetReader struct {
	r    io.Reader
	left int
}

var errTooLarge = errors.New("too large")

func (b *budgetReader) reset() { b.left = MaxNIEMOrderBytes }

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errTooLarge
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= n
	return n, err
}

// prefixed writes a name with the prefix this package uses for its
// namespace, as an error shows it.
func prefixed(n xml.Name) string {
	switch n.Space {
	case NIEMCoreNamespace:
		return "nc:" + n.Local
	case NIEMJusticeNamespace:
		return "j:" + n.Local
	case ExchangeNamespace:
		return "ccpor:" + n.Local
	case "":
		return n.Local
	}
	return "{" + n.Space + "}" + n.Local
}

// Decoding. An xel is an element being read: each child read is marked
// used, and done reports those left over, so nothing in a document is
// silently dropped. Problems name the element by its path.
type xel struct {
	n    *xmlNode
	path string
	used []bool
	errs *[]FieldProblem
}

const (
	nsNC = NIEMCoreNamespace
	nsJ  = NIEMJusticeNamespace
	nsX  = ExchangeNamespace
)

func (e *xel) problem(path, format string, args ...any) {
	*e.errs = append(*e.errs, FieldProblem{Field: path, Detail: fmt.Sprintf(format, args...)})
}

// all returns the children named ns:local, each with its position.
func (e *xel) all(ns, local string) []*xel {
	var out []*xel
	for i, k := range e.n.kids {
		if k.name.Space == ns && k.name.Local == local {
			e.used[i] = true
			out = append(out, &xel{n: k, used: make([]bool, len(k.kids)), errs: e.errs})
		}
	}
	for i, k := range out {
		k.path = e.path + "/" + prefixed(k.n.name)
		if len(out) > 1 {
			k.path += "[" + strconv.Itoa(i+1) + "]"
		}
	}
	return out
}

// one returns the child named ns:local, or nil; more than one is a problem.
func (e *xel) one(ns, local string) *xel {
	kids := e.all(ns, local)
	if len(kids) > 1 {
		e.problem(e.path+"/"+prefixed(xml.Name{Space: ns, Local: local}), "given %d times: at most once", len(kids))
	}
	if len(kids) == 0 {
		return nil
	}
	return kids[0]
}

// text returns the text of a child that holds only text, or "".
func (e *xel) text(ns, local string) string {
	if k := e.one(ns, local); k != nil {
		return k.leaf()
	}
	return ""
}

func (e *xel) leaf() string {
	e.done()
	return string(e.n.text)
}

// done reports the children nobody read and text among elements.
func (e *xel) done() {
	for i, k := range e.n.kids {
		if !e.used[i] {
			e.problem(e.path+"/"+prefixed(k.name), "unknown element here")
		}
	}
	if len(e.n.kids) > 0 && len(bytes.TrimSpace(e.n.text)) > 0 {
		e.problem(e.path, "text among the elements")
	}
}

func (e *xel) number(ns, local string) int {
	k := e.one(ns, local)
	if k == nil {
		return 0
	}
	s := strings.TrimSpace(k.leaf())
	v, err := strconv.Atoi(s)
	if err != nil {
		k.problem(k.path, "%q is not a whole number", s)
	}
	return v
}

func (e *xel) flag(ns, local string) bool {
	k := e.one(ns, local)
	if k == nil {
		return false
	}
	switch s := strings.TrimSpace(k.leaf()); s {
	case "true", "1":
		return true
	case "false", "0":
		return false
	default:
		k.problem(k.path, "%q is not true or false", s)
		return false
	}
}

func (e *xel) id(ns, local string) string {
	if k := e.one(ns, local); k != nil {
		defer k.done()
		return strings.TrimSpace(k.text(nsNC, "IdentificationID"))
	}
	return ""
}

// date reads a child holding nc:Date.
func (e *xel) date(ns, local string) Date {
	k := e.one(ns, local)
	if k == nil {
		return Date{}
	}
	defer k.done()
	return k.day()
}

func (e *xel) day() Date {
	d := e.one(nsNC, "Date")
	if d == nil {
		e.problem(e.path, "nc:Date is required")
		return Date{}
	}
	s := strings.TrimSpace(d.leaf())
	v, err := ParseDate(s)
	if err != nil {
		d.problem(d.path, "%v", err)
	}
	return v
}

// measure reads a child holding nc:MeasureIntegerValue in unit.
func (e *xel) measure(local, unitElement, unit string) int {
	k := e.one(nsNC, local)
	if k == nil {
		return 0
	}
	defer k.done()
	if u := strings.TrimSpace(k.text(nsNC, unitElement)); u != unit {
		k.problem(k.path+"/nc:"+unitElement, "%q: the unit must be %s", u, unit)
	}
	return k.number(nsNC, "MeasureIntegerValue")
}

func decodeNIEMOrder(n *xmlNode) (*Order, error) {
	var problems []FieldProblem
	e := &xel{n: n, path: "j:ProtectionOrder", used: make([]bool, len(n.kids)), errs: &problems}
	o := &Order{ID: e.id(nsNC, "ActivityIdentification"), Type: OrderType(strings.TrimSpace(e.text(nsNC, "ActivityCategoryText")))}
	if s := e.one(nsNC, "ActivityStatus"); s != nil {
		o.Status = Status(strings.TrimSpace(s.text(nsNC, "StatusText")))
		s.done()
	}
	o.IssuedOn = e.date(nsNC, "ActivityDate")
	o.ExpiresAt = e.date(nsJ, "ProtectionOrderExpirationDate")
	if k := e.one(nsJ, "ProtectionOrderRestrainedPerson"); k != nil {
		o.Restrained = k.person(nil)
	} else {
		e.problem(e.path+"/j:ProtectionOrderRestrainedPerson", "the restrained person is required")
	}
	for _, k := range e.all(nsJ, "ProtectionOrderProtectedPerson") {
		var p Party
		p.Person = k.person(&p)
		o.Protected = append(o.Protected, p)
	}
	if c := e.one(nsJ, "ProtectionOrderIssuingCourt"); c != nil {
		c.text(nsNC, "OrganizationName") // derived from the county
		o.Court = c.text(nsJ, "CourtName")
		c.done()
	}
	codes := e.all(nsJ, "ProtectionOrderConditionCode")
	e.one(nsJ, "ProtectionOrderConditionText") // derived from the terms
	if a := e.one(nsX, "ProtectionOrderAugmentation"); a != nil {
		a.orderExtension(o)
	} else {
		e.problem(e.path+"/ccpor:ProtectionOrderAugmentation", "required: it holds the phase, county, case number and terms")
	}
	if len(codes) > 0 {
		given := make([]string, len(codes))
		for i, k := range codes {
			given[i] = strings.TrimSpace(k.leaf())
		}
		slices.Sort(given)
		if want := NCICMessageOf(o).Conditions; !slices.Equal(given, want) {
			e.problem(e.path+"/j:ProtectionOrderConditionCode", "the codes %s disagree with the terms in ccpor:OrderTerms, which are %s",
				strings.Join(given, " "), strings.Join(want, " "))
		}
	}
	e.done()
	if len(problems) > 0 {
		return nil, &Error{Code: EInvalid, Message: "Not a valid NIEM protection order.", Problems: problems}
	}
	return o, nil
}

func (e *xel) person(party *Party) Person {
	defer e.done()
	var p Person
	if name := e.one(nsNC, "PersonName"); name != nil {
		p.First, p.Middle = name.text(nsNC, "PersonGivenName"), name.text(nsNC, "PersonMiddleName")
		p.Last, p.Suffix = name.text(nsNC, "PersonSurName"), name.text(nsNC, "PersonNameSuffixText")
		name.done()
	}
	for _, k := range e.all(nsNC, "PersonAlternateName") {
		p.Aliases = append(p.Aliases, k.text(nsNC, "PersonFullName"))
		k.done()
	}
	for _, k := range e.all(nsNC, "PersonBirthDate") {
		switch {
		case k.one(nsNC, "Year") != nil:
			if p.BirthYear != 0 {
				k.problem(k.path, "a second birth year")
			}
			if p.BirthYear = k.number(nsNC, "Year"); p.BirthYear == 0 {
				k.problem(k.path+"/nc:Year", "a year is required")
			}
			k.done()
		case !p.DOB.IsZero():
			k.problem(k.path, "a second birth date")
		default:
			p.DOB = k.day()
			k.done()
		}
	}
	p.Age = e.measure("PersonAgeMeasure", "TimeUnitCode", "ANN")
	p.HeightIn = e.measure("PersonHeightMeasure", "LengthUnitCode", "INH")
	p.WeightLb = e.measure("PersonWeightMeasure", "WeightUnitCode", "LBR")
	p.Sex, p.Race = e.text(nsNC, "PersonSexText"), e.text(nsNC, "PersonRaceText")
	p.Hair, p.Eyes = e.text(nsJ, "PersonHairColorCode"), e.text(nsJ, "PersonEyeColorCode")
	ssn := e.id(nsNC, "PersonSSNIdentification")
	if j := e.one(nsJ, "PersonAugmentation"); j != nil {
		id := &Identifiers{FBI: j.id(nsJ, "PersonFBIIdentification"), CII: j.id(nsJ, "PersonStateFingerprintIdentification")}
		if dl := j.one(nsNC, "DriverLicense"); dl != nil {
			id.DL = dl.id(nsNC, "DriverLicenseCardIdentification")
			dl.done()
		}
		j.done()
		p.Identifiers = id
	}
	if ssn != "" {
		if p.Identifiers == nil {
			p.Identifiers = &Identifiers{}
		}
		p.Identifiers.SSN = ssn
	}
	if x := e.one(nsX, "PersonAugmentation"); x != nil {
		if a := x.one(nsX, "PersonAddress"); a != nil {
			p.Address = &Address{City: a.text(nsNC, "LocationCityName"), State: a.text(nsNC, "LocationStateUSPostalServiceCode"),
				Zip: a.text(nsNC, "LocationPostalCode"), Line2: a.text(nsNC, "AddressSecondaryUnitText")}
			if s := a.one(nsNC, "LocationStreet"); s != nil {
				p.Address.Line1 = s.text(nsNC, "StreetFullText")
				s.done()
			}
			a.done()
		}
		if party != nil { // a restrained person has none of these: done reports them
			party.Relationship = x.text(nsX, "PartyRelationshipText")
			party.Minor, party.Confidential = x.flag(nsX, "PartyMinorIndicator"), x.flag(nsX, "PartyConfidentialIndicator")
		}
		x.done()
	}
	return p
}

func (e *xel) orderExtension(o *Order) {
	defer e.done()
	o.Phase, o.Form = Phase(strings.TrimSpace(e.text(nsX, "OrderPhaseCode"))), e.text(nsX, "OrderFormText")
	o.CaseNumber, o.County = e.text(nsX, "CaseNumberText"), e.text(nsX, "CountyName")
	o.Division = Division(strings.TrimSpace(e.text(nsX, "CourtDivisionCode")))
	o.Permanent, o.Sealed = e.flag(nsX, "OrderPermanentIndicator"), e.flag(nsX, "OrderSealedIndicator")
	o.PreviousOrderID = e.id(nsX, "PreviousOrderIdentification")
	o.Brady, o.Notes = Brady(strings.TrimSpace(e.text(nsX, "BradyCode"))), e.text(nsX, "OrderNotesText")
	o.Version = e.number(nsX, "OrderVersionNumber")
	if k := e.one(nsX, "OrderTermination"); k != nil {
		o.Terminated = &Termination{On: k.date(nsX, "TerminationDate"), Reason: k.text(nsX, "TerminationReasonText")}
		k.done()
	}
	if k := e.one(nsX, "OrderService"); k != nil {
		s := &o.Service
		s.Status = ServiceStatus(strings.TrimSpace(k.text(nsX, "ServiceStatusCode")))
		s.ServedBy, s.Agency = k.text(nsX, "ServedByText"), k.text(nsX, "ServiceAgencyName")
		s.Location, s.Notes = k.text(nsX, "ServiceLocationText"), k.text(nsX, "ServiceNotesText")
		if d := k.one(nsX, "ServiceDate"); d != nil {
			v := strings.TrimSpace(d.text(nsNC, "DateTime"))
			if t, err := time.Parse(time.RFC3339Nano, v); err != nil {
				d.problem(d.path+"/nc:DateTime", "%q is not a date and time such as 2026-03-02T17:00:00Z", v)
			} else {
				s.ServedAt = &t
			}
			d.done()
		}
		k.done()
	}
	if k := e.one(nsX, "OrderTerms"); k != nil {
		t := &o.Terms
		t.Conduct, t.NoContact = k.flag(nsX, "ConductIndicator"), k.flag(nsX, "NoContactIndicator")
		t.PeacefulContact, t.MoveOut = k.flag(nsX, "PeacefulContactIndicator"), k.flag(nsX, "MoveOutIndicator")
		t.Firearms, t.StayAwayYards = k.flag(nsX, "FirearmsIndicator"), k.number(nsX, "StayAwayYardsQuantity")
		for _, c := range k.all(nsX, "ContactExceptionCode") {
			t.ContactExceptions = append(t.ContactExceptions, strings.TrimSpace(c.leaf()))
		}
		for _, c := range k.all(nsX, "StayAwayPlaceCode") {
			t.StayAwayPlaces = append(t.StayAwayPlaces, strings.TrimSpace(c.leaf()))
		}
		t.Custody, t.Visitation = strings.TrimSpace(k.text(nsX, "CustodyCode")), strings.TrimSpace(k.text(nsX, "VisitationCode"))
		t.Other = k.text(nsX, "OtherConditionsText")
		k.done()
	} else {
		e.problem(e.path+"/ccpor:OrderTerms", "required: the condition codes alone do not say the distance, the places or who has custody")
	}
	if k := e.one(nsX, "OrderRegistration"); k != nil {
		o.Registration = &Registration{Kind: RegistrationKind(strings.TrimSpace(k.text(nsX, "RegistrationKindCode"))),
			Jurisdiction: k.text(nsX, "RegistrationJurisdictionText"), IssuingCourt: k.text(nsX, "OriginalCourtName"),
			OriginalCaseNumber: k.text(nsX, "OriginalCaseNumberText"), RegisteredOn: k.date(nsX, "RegistrationDate"),
			NotifyRespondent: k.flag(nsX, "NotifyRespondentIndicator")}
		k.done()
	}
}
