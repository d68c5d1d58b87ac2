// Command benchreport writes BENCHMARKS.md from the figures of a `make
// bench` run: the JSON lines the benchmark tests of cmd/ccpor append to
// CCPOR_BENCH_RESULTS, and the log lines of the quality tests and of the
// PostgreSQL-only baseline's comparison, kept as they were printed.
//
//	benchreport -results R.jsonl [-quality Q.txt] [-baseline B.txt] [-out BENCHMARKS.md]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// result is one line of the results file (cmd/ccpor's benchResult).
type result struct {
	Size   int                `json:"size"`
	Name   string             `json:"name"`
	Value  float64            `json:"value"`
	Unit   string             `json:"unit"`
	Text   string             `json:"text"`
	Fields map[string]float64 `json:"fields"`
}

func main() {
	results := flag.String("results", "", "JSON lines written by the benchmark tests (CCPOR_BENCH_RESULTS)")
	quality := flag.String("quality", "", "log lines of the quality tests")
	base := flag.String("baseline", "", "log lines of the baseline's pair-completeness comparison")
	out := flag.String("out", "BENCHMARKS.md", "report to write")
	flag.Parse()
	if *results == "" {
		fmt.Fprintln(os.Stderr, "benchreport: -results is required")
		os.Exit(2)
	}
	in := input{now: time.Now().UTC()}
	var err error
	if in.results, err = readResults(*results); err == nil {
		if in.quality, err = readLines(*quality); err == nil {
			in.baseline, err = readLines(*base)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	var buf bytes.Buffer
	render(&buf, in)
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func readResults(path string) ([]result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rs []result
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		rs = append(rs, r)
	}
	return rs, sc.Err()
}

// readLines reads a log file, trimmed of go test's indentation; no path
// or a missing file is no lines: that part of make bench did not run.
func readLines(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

type input struct {
	now      time.Time
	results  []result
	quality  []string
	baseline []string
}

// figures indexes results by size and name; rows (several results of one
// name, such as load steps) keep their order.
type figures struct {
	sizes []int
	one   map[int]map[string]result
	rows  map[int]map[string][]result
}

func index(rs []result) figures {
	f := figures{one: map[int]map[string]result{}, rows: map[int]map[string][]result{}}
	for _, r := range rs {
		if f.one[r.Size] == nil {
			f.one[r.Size], f.rows[r.Size] = map[string]result{}, map[string][]result{}
			f.sizes = append(f.sizes, r.Size)
		}
		f.one[r.Size][r.Name] = r
		f.rows[r.Size][r.Name] = append(f.rows[r.Size][r.Name], r)
	}
	slices.Sort(f.sizes)
	return f
}

func (f figures) get(size int, name string) (result, bool) {
	r, ok := f.one[size][name]
	return r, ok
}

// any returns the figure from whichever size has it (machine facts).
func (f figures) any(name string) (result, bool) {
	for _, s := range f.sizes {
		if r, ok := f.get(s, name); ok {
			return r, true
		}
	}
	return result{}, false
}

// targetSize is the size the targets are set for.
const targetSize = 1_000_000

func render(w io.Writer, in input) {
	f := index(in.results)
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# ccpor benchmarks\n\n")
	p("Written by `make bench` (cmd/benchreport) on %s.\n\n", in.now.Format("2006-01-02 15:04 MST"))
	machine := []string{}
	if r, ok := f.any("cores"); ok {
		machine = append(machine, fmt.Sprintf("%d cores", int(r.Value)))
	}
	if r, ok := f.any("memory"); ok {
		machine = append(machine, bytesStr(r.Value)+" memory")
	}
	if r, ok := f.any("go version"); ok {
		machine = append(machine, "Go "+strings.TrimPrefix(r.Text, "go"))
	}
	if r, ok := f.any("postgresql version"); ok {
		machine = append(machine, "PostgreSQL "+r.Text)
	}
	p("Machine: %s. PostgreSQL runs on the same machine; the server, the load generator and PostgreSQL share the cores.\n\n",
		orDash(strings.Join(machine, ", ")))
	var sizes []string
	for _, s := range f.sizes {
		sizes = append(sizes, num(float64(s)))
	}
	p("Registry sizes: %s orders (synthetic, `fixtures`).\n\n", orDash(strings.Join(sizes, " and ")))

	renderTargets(w, f, in.baseline)
	renderFigures(w, f)
	renderLoad(w, f)
	renderSoak(w, f)

	p("## Matching quality\n\nThe quality tests of `make bench` (`go test -run Quality`, CCPOR_BENCH_FULL=1), as they printed:\n\n")
	// The baseline's lines come out of the same run; they have their own
	// section below.
	quality := slices.DeleteFunc(slices.Clone(in.quality), func(l string) bool { return slices.Contains(in.baseline, l) })
	codeBlock(w, quality, "not run")
	p("## PostgreSQL-only baseline: pair completeness\n\n")
	p("`store/baseline`'s comparison on FEBRL (its log lines beginning `baseline:`):\n\n")
	codeBlock(w, in.baseline, "not run: store/baseline's quality test printed nothing")

	p("## How each figure was measured\n\n")
	for _, l := range howMeasured {
		p("- %s\n", l)
	}
}

var howMeasured = []string{
	"**Bulk import**: TestImportBench writes N generated orders as NDJSON, then times `importOrders` (the path of `ccpor import`, batches of 2,000) into an empty database; its peak RSS is that test process's (it also wrote the file).",
	"**Reindex**: `index.Rebuild` of every order from PostgreSQL into a new generation; **index size** is the bytes of the generation directory in use after it.",
	"**Server**: `ccpor serve` in a child process (the test binary re-executed as the serve command, rate limits lifted), on loopback; its RSS is read from /proc/PID/status (peak: VmHWM over its whole life, including opening the index and catching up; after load: VmRSS once the load steps, the commit-to-searchable probe and the intakes are done).",
	"**Single client** (search, duplicate check, conflict check, pages): one request at a time over HTTP for up to 500 seeded orders, the officer search being the first 4 letters of the restrained person's last name and the first initial, status any; the checks send the whole order.",
	"**In-process pair**: the same queries against our index (`index.Search` then `index.Rank`, and `index.Duplicates`, as the API does before paging and auditing) and against `store/baseline.Search` (full last name, first name and birth date for the duplicate check), both without HTTP in the test process, before the server starts: like with like. Each of our queries follows one of the baseline's (hundreds of milliseconds of PostgreSQL on the same two cores at 1,000,000 orders), so our tails read higher here than when run alone.",
	"**Search under load**: vegeta (as a library) sends the officer searches at each fixed rate for one step; achieved is successful answers/s; a step holds when p99 ≤ 100 ms with no error; the sustained rate is the highest step that held (steps stop after two in a row that did not). A second of searches at 10/s opens the client's connections first.",
	"**Intake**: sequential POST /api/v1/orders by a clerk of fresh generated orders, duplicate guard in full (an override reason keeps chance resemblances from stopping the run), each answered once searchable; rate = orders / summed latency.",
	"**Commit to searchable**: an order written with `store.CreateOrder` (the server's follower is not nudged), then officer searches by its full name and birth date every millisecond until one returns it; resolution is one search. Measures the follower's notification or poll path.",
	"**Soak**: vegeta at a fixed rate, of every 20 requests 16 searches, 3 conflict checks, 1 intake; heap in use, heap live (what the last collection found in use: a leak shows there, while heap in use also swings with the collector's cycle) and goroutines from the server's /metrics, RSS and open files from /proc/PID; warm-up is the first tenth of the soak, flat means last ≤ 1.2 × the value after warm-up. Goroutines and open files include one or two per client connection the load generator keeps open, so they follow its connection count.",
}

// target is one of the goals the registry is measured against.
type target struct {
	what   string
	figure func(f figures, size int) (shown string, met, known bool)
}

var targets = []target{
	{"Officer search p99 ≤ 50 ms, single client", func(f figures, s int) (string, bool, bool) {
		r, ok := f.get(s, "search p99")
		return msStr(r.Value), r.Value <= 50, ok
	}},
	{"≥ 300 searches/s sustained at p99 ≤ 100 ms", func(f figures, s int) (string, bool, bool) {
		r, ok := f.get(s, "search sustained")
		return sustained(r.Value), r.Value >= 300, ok
	}},
	{"Reindex ≤ 5 min", func(f figures, s int) (string, bool, bool) {
		r, ok := f.get(s, "reindex")
		return durStr(r.Value), r.Value <= 300, ok
	}},
	{"Bulk import ≥ 5,000 orders/s", func(f figures, s int) (string, bool, bool) {
		r, ok := f.get(s, "import rate")
		return num(r.Value) + " orders/s", r.Value >= 5000, ok
	}},
	{"Server RSS ≤ 2 GiB", func(f figures, s int) (string, bool, bool) {
		r, ok := f.get(s, "server RSS peak")
		return "peak " + bytesStr(r.Value), r.Value <= 2<<30, ok
	}},
	{"Search p99 ahead of the baseline (in-process, same queries)", func(f figures, s int) (string, bool, bool) {
		return aheadOf(f, s, "search in-process p99", "baseline search p99")
	}},
	{"Duplicate check p99 ahead of the baseline (in-process, same queries)", func(f figures, s int) (string, bool, bool) {
		return aheadOf(f, s, "duplicate check in-process p99", "baseline duplicate check p99")
	}},
}

func aheadOf(f figures, s int, ours, theirs string) (string, bool, bool) {
	o, ok1 := f.get(s, ours)
	b, ok2 := f.get(s, theirs)
	if !ok1 || !ok2 {
		return "", false, false
	}
	return fmt.Sprintf("ours %s, baseline %s (baseline/ours %s)", msStr(o.Value), msStr(b.Value), ratio(b.Value, o.Value)), o.Value < b.Value, true
}

var pcRatio = regexp.MustCompile(`PC ratio ours/baseline ([0-9.]+)`)

func renderTargets(w io.Writer, f figures, baseline []string) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	size := targetSize
	if len(f.sizes) > 0 && !slices.Contains(f.sizes, targetSize) {
		size = f.sizes[len(f.sizes)-1]
	}
	p("## Targets\n\n")
	if size != targetSize {
		p("The targets are for %s orders; this run's largest size is %s, so the verdicts below are indicative only.\n\n", num(targetSize), num(float64(size)))
	}
	p("| Target | Measured at %s orders | |\n|---|---|---|\n", num(float64(size)))
	for _, t := range targets {
		shown, met, known := t.figure(f, size)
		p("| %s | %s | %s |\n", t.what, orDash(cond(known, shown, "")), verdict(met, known))
	}
	var shown string
	met, known := false, false
	for _, l := range baseline {
		if m := pcRatio.FindStringSubmatch(l); m != nil {
			r, _ := strconv.ParseFloat(m[1], 64)
			// Several FEBRL sizes: the verdict holds only if it holds on all.
			met, known = (met || !known) && r > 1, true
			shown += cond(shown == "", "", ", ") + m[1]
		}
	}
	p("| Ahead of the baseline in pair completeness (FEBRL) | %s | %s |\n\n",
		orDash(cond(known, "ours/baseline "+shown, "")), verdict(met, known))
}

// rowsOf are the figures of the main table in order: name, label.
var rowsOf = [][2]string{
	{"import rate", "Bulk import (orders/s)"},
	{"import peak RSS", "Bulk import, peak RSS of the importer"},
	{"reindex", "Reindex (time)"},
	{"reindex rate", "Reindex (orders/s)"},
	{"index size", "Index size on disk (current generation)"},
	{"search", "Officer search, single client (HTTP)"},
	{"duplicate check", "Duplicate check, single client (HTTP)"},
	{"conflict check", "Conflict check, single client (HTTP)"},
	{"search page", "Search page, single client"},
	{"order page", "Order page, single client"},
	{"work queues page", "Work queues page, single client"},
	{"search in-process", "Officer search, in-process (ours)"},
	{"baseline search", "Officer search, in-process (PostgreSQL baseline)"},
	{"duplicate check in-process", "Duplicate check, in-process (ours)"},
	{"baseline duplicate check", "Duplicate check, in-process (PostgreSQL baseline)"},
	{"baseline install", "Baseline install or catch-up (time)"},
	{"search sustained", "Officer searches sustained at p99 ≤ 100 ms (req/s)"},
	{"intake rate", "Intake with duplicate guard, sequential (orders/s)"},
	{"intake (until searchable)", "Intake latency (until searchable)"},
	{"commit to searchable", "Commit to searchable"},
	{"server RSS peak", "Server RSS, peak"},
	{"server RSS after load", "Server RSS, after the load"},
	{"server RSS after load, anonymous", "Server RSS after the load, anonymous part (heap, not index pages)"},
}

func renderFigures(w io.Writer, f figures) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Figures\n\nLatencies are p50 / p95 / p99.\n\n| Figure |")
	for _, s := range f.sizes {
		p(" %s orders |", num(float64(s)))
	}
	p("\n|---|%s\n", strings.Repeat("---|", len(f.sizes)))
	for _, row := range rowsOf {
		cells, any := []string{}, false
		for _, s := range f.sizes {
			c := cell(f, s, row[0])
			any = any || c != "–"
			cells = append(cells, c)
		}
		if any {
			p("| %s | %s |\n", row[1], strings.Join(cells, " | "))
		}
	}
	for _, pair := range [][3]string{
		{"Baseline/ours p99, officer search in-process", "baseline search p99", "search in-process p99"},
		{"Baseline/ours p99, duplicate check in-process", "baseline duplicate check p99", "duplicate check in-process p99"},
	} {
		cells, any := []string{}, false
		for _, s := range f.sizes {
			b, ok1 := f.get(s, pair[1])
			o, ok2 := f.get(s, pair[2])
			c := "–"
			if ok1 && ok2 {
				c, any = ratio(b.Value, o.Value), true
			}
			cells = append(cells, c)
		}
		if any {
			p("| %s | %s |\n", pair[0], strings.Join(cells, " | "))
		}
	}
	p("\n")
}

// cell shows one figure of one size: a single value, or the three
// percentiles of a latency.
func cell(f figures, s int, name string) string {
	if r, ok := f.get(s, name); ok {
		return value(r)
	}
	var qs []string
	for _, q := range []string{"p50", "p95", "p99"} {
		r, ok := f.get(s, name+" "+q)
		if !ok {
			return "–"
		}
		qs = append(qs, strconv.FormatFloat(r.Value, 'f', 1, 64))
	}
	return strings.Join(qs, " / ") + " ms"
}

func value(r result) string {
	switch r.Unit {
	case "bytes":
		return bytesStr(r.Value)
	case "s":
		return durStr(r.Value)
	case "ms":
		return msStr(r.Value)
	case "":
		if r.Text != "" {
			return r.Text
		}
		return num(r.Value)
	}
	return num(r.Value)
}

func renderLoad(w io.Writer, f figures) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Officer searches under load\n\n")
	any := false
	for _, s := range f.sizes {
		steps := f.rows[s]["search load step"]
		if len(steps) == 0 {
			continue
		}
		any = true
		p("%s orders:\n\n| Rate sent | Achieved | Requests | p50 | p99 | Errors | Held (p99 ≤ 100 ms, no error) |\n|---|---|---|---|---|---|---|\n", num(float64(s)))
		for _, st := range steps {
			held := st.Fields["p99_ms"] <= 100 && st.Fields["errors"] == 0
			p("| %s req/s | %s req/s | %s | %s | %s | %s | %s |\n", num(st.Value), num1(st.Fields["achieved"]), num(st.Fields["requests"]),
				msStr(st.Fields["p50_ms"]), msStr(st.Fields["p99_ms"]), num(st.Fields["errors"]), cond(held, "yes", "no"))
		}
		if r, ok := f.get(s, "search sustained"); ok {
			p("\nHighest rate held: **%s**.\n", cond(r.Value == 0, "none", num(r.Value)+" req/s"))
		}
		p("\n")
	}
	if !any {
		p("Not run.\n\n")
	}
}

func renderSoak(w io.Writer, f figures) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Soak\n\n")
	any := false
	for _, s := range f.sizes {
		d, ok := f.get(s, "soak duration")
		if !ok {
			continue
		}
		any = true
		rate, _ := f.get(s, "soak rate")
		p("%s orders, %s at %s req/s (16 searches, 3 conflict checks, 1 intake in every 20):\n\n", num(float64(s)), durStr(d.Value), num(rate.Value))
		p("| Request | Achieved | Requests | p50 | p99 | Errors |\n|---|---|---|---|---|---|\n")
		for _, kind := range []string{"search", "conflict check", "intake"} {
			if r, ok := f.get(s, "soak "+kind); ok {
				p("| %s | %s req/s | %s | %s | %s | %s |\n", kind, num1(r.Value), num(r.Fields["requests"]),
					msStr(r.Fields["p50_ms"]), msStr(r.Fields["p99_ms"]), num(r.Fields["errors"]))
			}
		}
		p("\n| Server metric | First | After warm-up | Last | Max | Samples | Flat (last ≤ 1.2 × after warm-up) |\n|---|---|---|---|---|---|---|\n")
		for _, m := range [][2]string{{"soak heap in use", "Heap in use"}, {"soak heap live", "Heap live (after the last collection)"}, {"soak RSS", "RSS"}, {"soak goroutines", "Goroutines"}, {"soak open files", "Open files"}} {
			r, ok := f.get(s, m[0])
			if !ok {
				continue
			}
			show := func(v float64) string { return value(result{Value: v, Unit: r.Unit}) }
			p("| %s | %s | %s | %s | %s | %s | %s |\n", m[1], show(r.Fields["first"]), show(r.Fields["warm"]), show(r.Fields["last"]),
				show(r.Fields["max"]), num(r.Fields["samples"]), cond(r.Fields["flat"] == 1, "yes", "**no**"))
		}
		p("\n")
	}
	if !any {
		p("Not run.\n\n")
	}
}

// sustained shows the highest load step that held.
func sustained(rate float64) string {
	if rate == 0 {
		return "none of the steps held"
	}
	return num(rate) + " req/s (highest step held)"
}

func codeBlock(w io.Writer, lines []string, none string) {
	if len(lines) == 0 {
		fmt.Fprintf(w, "%s.\n\n", none)
		return
	}
	fmt.Fprintf(w, "```\n%s\n```\n\n", strings.Join(lines, "\n"))
}

func verdict(met, known bool) string {
	switch {
	case !known:
		return "not measured"
	case met:
		return "met"
	}
	return "**missed**"
}

func cond(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func orDash(s string) string { return cond(s == "", "–", s) }

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "×"
}

// num formats a count with thousands separators.
func num(v float64) string {
	s := strconv.FormatInt(int64(v+0.5*sign(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return cond(neg, "-", "") + s
}

func num1(v float64) string {
	if v >= 100 {
		return num(v)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func sign(v float64) float64 { return cond1(v < 0, -1, 1) }

func cond1(c bool, a, b float64) float64 {
	if c {
		return a
	}
	return b
}

func msStr(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + " ms" }

func durStr(sec float64) string {
	if sec >= 120 {
		return fmt.Sprintf("%.1f min", sec/60)
	}
	return fmt.Sprintf("%.1f s", sec)
}

func bytesStr(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", b/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", b/(1<<10))
}
