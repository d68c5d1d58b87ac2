package matching

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ccpor/ccpor"
)

// benchRecord is one labelled benchmark record.
type benchRecord struct {
	id, cluster string
	rec         *Record
}

// readCSV reads a CSV file with a header into maps keyed by column name.
func readCSV(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open benchmark: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.TrimLeadingSpace = true // FEBRL separates with ", "
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		} else if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		row := map[string]string{}
		for i, h := range head {
			if i < len(rec) {
				row[strings.TrimSpace(h)] = strings.TrimSpace(rec[i])
			}
		}
		rows = append(rows, row)
	}
}

// parseDate accepts YYYYMMDD or YYYY-MM-DD; anything else is unknown.
func parseDate(s string) ccpor.Date {
	s = strings.ReplaceAll(s, "-", "")
	if t, err := time.Parse("20060102", s); err == nil && len(s) == 8 {
		return ccpor.NewDate(t.Year(), t.Month(), t.Day())
	}
	return ccpor.Date{}
}

// BenchRecord is one labelled record of the benchmark data in
// ../shared/bench, as the person it describes: records of one Cluster are
// one person.
type BenchRecord struct {
	ID, Cluster string
	Person      ccpor.Person
}

// LoadFEBRL reads a FEBRL file as restrained persons (name, birth date,
// address; the social security number as an identifier when withIDs);
// rec-N-org and rec-N-dup-0 share cluster N. The quality benchmarks of
// this package, the index and the PostgreSQL baseline all read it here,
// so that they measure the same people.
func LoadFEBRL(path string, withIDs bool) ([]BenchRecord, error) {
	rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	out := make([]BenchRecord, 0, len(rows))
	for _, r := range rows {
		p := ccpor.Person{
			First: r["given_name"], Last: r["surname"], DOB: parseDate(r["date_of_birth"]),
			Address: &ccpor.Address{
				Line1: strings.TrimSpace(r["street_number"] + " " + r["address_1"]),
				Line2: r["address_2"], City: r["suburb"], State: r["state"], Zip: r["postcode"],
			},
		}
		if withIDs && r["soc_sec_id"] != "" {
			p.Identifiers = &ccpor.Identifiers{SSN: r["soc_sec_id"]}
		}
		parts := strings.Split(r["rec_id"], "-")
		if len(parts) < 2 {
			return nil, fmt.Errorf("%s: bad rec_id %q", path, r["rec_id"])
		}
		out = append(out, BenchRecord{ID: r["rec_id"], Cluster: parts[1], Person: p})
	}
	return out, nil
}

// LoadFake1000 reads splink's fake_1000 (names, birth date, city; the
// email is not part of our person).
func LoadFake1000(path string) ([]BenchRecord, error) {
	rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	out := make([]BenchRecord, 0, len(rows))
	for _, r := range rows {
		p := ccpor.Person{First: r["first_name"], Last: r["surname"], DOB: parseDate(r["dob"])}
		if r["city"] != "" {
			p.Address = &ccpor.Address{City: r["city"]}
		}
		out = append(out, BenchRecord{ID: r["unique_id"], Cluster: r["cluster"], Person: p})
	}
	return out, nil
}

// prepared turns loaded records into this package's evaluation records.
func prepared(recs []BenchRecord, err error) ([]benchRecord, error) {
	if err != nil {
		return nil, err
	}
	out := make([]benchRecord, len(recs))
	for i, r := range recs {
		out[i] = benchRecord{id: r.ID, cluster: r.Cluster, rec: Prepare(r.Person, ccpor.Date{})}
	}
	return out, nil
}

// blocker is an in-memory inverted index from Keys to records, standing in
// for the Bleve index.
type blocker map[string][]int

func newBlocker(recs []benchRecord) blocker {
	b := blocker{}
	for i, r := range recs {
		for _, k := range KeysAt(r.rec.Person, r.rec.AsOf) {
			b[k] = append(b[k], i)
		}
	}
	return b
}

// candidates returns the records sharing any key with r, in index order.
func (b blocker) candidates(r *Record, seen []bool) []int {
	var out []int
	for _, k := range KeysAt(r.Person, r.AsOf) {
		for _, i := range b[k] {
			if !seen[i] {
				seen[i] = true
				out = append(out, i)
			}
		}
	}
	for _, i := range out {
		seen[i] = false
	}
	return out
}

// EvalOptions chooses what an evaluation runs on.
type EvalOptions struct {
	// WithIDs adds FEBRL's soc_sec_id as an SSN.
	WithIDs bool
	// Limit keeps only the first Limit records (FEBRL: of 4a, with their
	// duplicates in 4b); zero means all.
	Limit int
	// CalibratePrior replaces cfg.Prior by the chance that two records of
	// this data set are the same person, estimated without labels by
	// FitPrior on the candidate pairs. A deployment does the same on its
	// own registry (or uses Config.WithPopulation).
	CalibratePrior bool
}

// Report is the quality of matching on one labelled benchmark.
type Report struct {
	Dataset    string
	Prior      float64 // the prior used
	Queries    int     // records queried
	Indexed    int     // records in the index
	TruePairs  int     // true pairs in the ground truth
	Candidates int     // (query, candidate) pairs blocking returned and Compare scored
	// PairCompleteness is the share of true pairs among the candidates.
	PairCompleteness float64
	Predicted        int // pairs scored at or above Config.Match
	TruePositives    int
	Precision        float64
	Recall           float64
	F1               float64
	// RecallAt10 is the share of queries with a true match whose true
	// match (any one, for fake_1000) is among the 10 best candidates.
	RecallAt10 float64
}

// String formats the report on one line.
func (r Report) String() string {
	return fmt.Sprintf("%s: prior=%.3g queries=%d indexed=%d true=%d candidates=%d PC=%.4f predicted=%d TP=%d P=%.4f R=%.4f F1=%.4f R@10=%.4f",
		r.Dataset, r.Prior, r.Queries, r.Indexed, r.TruePairs, r.Candidates, r.PairCompleteness,
		r.Predicted, r.TruePositives, r.Precision, r.Recall, r.F1, r.RecallAt10)
}

func (r *Report) finish(found, inTop10, queriesWithTruth int) {
	r.PairCompleteness = ratio(found, r.TruePairs)
	r.Precision = ratio(r.TruePositives, r.Predicted)
	r.Recall = ratio(r.TruePositives, r.TruePairs)
	if r.Precision+r.Recall > 0 {
		r.F1 = 2 * r.Precision * r.Recall / (r.Precision + r.Recall)
	}
	r.RecallAt10 = ratio(inTop10, queriesWithTruth)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// EvaluateFEBRL runs the FEBRL 4 protocol of bench/README.md on
// dir/febrl4a.csv and dir/febrl4b.csv: every 4a record is indexed, every
// 4b record is a query, candidates come from Keys, and Compare scores them.
// It returns an error when the files cannot be read.
func EvaluateFEBRL(dir string, opt EvalOptions, cfg Config) (Report, error) {
	a, b, err := febrlSets(dir, opt)
	if err != nil {
		return Report{}, err
	}
	name := "febrl4"
	if opt.WithIDs {
		name += "+ssn"
	}
	return evaluate(name, a, b, false, opt, cfg), nil
}

func febrlSets(dir string, opt EvalOptions) (a, b []benchRecord, err error) {
	if a, err = prepared(LoadFEBRL(filepath.Join(dir, "febrl4a.csv"), opt.WithIDs)); err != nil {
		return nil, nil, err
	}
	if b, err = prepared(LoadFEBRL(filepath.Join(dir, "febrl4b.csv"), opt.WithIDs)); err != nil {
		return nil, nil, err
	}
	if opt.Limit > 0 && opt.Limit < len(a) {
		a = a[:opt.Limit]
		keep := map[string]bool{}
		for _, r := range a {
			keep[r.cluster] = true
		}
		var bb []benchRecord
		for _, r := range b {
			if keep[r.cluster] {
				bb = append(bb, r)
			}
		}
		b = bb
	}
	return a, b, nil
}

// EvaluateFake1000 runs the fake_1000 protocol: every record is indexed and
// queried against the others, and unordered pairs are counted against the
// cluster column. It returns an error when the file cannot be read.
func EvaluateFake1000(dir string, opt EvalOptions, cfg Config) (Report, error) {
	recs, err := prepared(LoadFake1000(filepath.Join(dir, "fake_1000.csv")))
	if err != nil {
		return Report{}, err
	}
	if opt.Limit > 0 && opt.Limit < len(recs) {
		recs = recs[:opt.Limit]
	}
	return evaluate("fake_1000", recs, recs, true, opt, cfg), nil
}
