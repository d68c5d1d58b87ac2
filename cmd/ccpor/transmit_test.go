package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/storetest"
)

// testOrder returns a valid prepared order of case n, its people its own.
func testOrder(tb testing.TB, n int) *ccpor.Order {
	tb.Helper()
	o := &ccpor.Order{
		Type: ccpor.OrderDV, Phase: ccpor.PhaseAfterHearing, County: "Alameda",
		CaseNumber: fmt.Sprintf("26FL%06d", n), IssuedOn: ccpor.NewDate(2026, time.February, 20),
		Restrained: ccpor.Person{First: "Roberto", Last: fmt.Sprintf("Test%d", n), DOB: ccpor.NewDate(1984, time.May, 7), Sex: "M", Race: "H"},
		Protected:  []ccpor.Party{{Person: ccpor.Person{First: "Ana", Last: "García"}, Relationship: "spouse"}},
		Terms:      ccpor.Terms{Conduct: true, NoContact: true, StayAwayYards: 100, Firearms: true},
	}
	if err := o.Prepare(storetest.Now); err != nil {
		tb.Fatal(err)
	}
	return o
}

// transmitDB is a test database whose clock the test moves.
func transmitDB(tb testing.TB) (*store.DB, *atomic.Int64) {
	tb.Helper()
	db := storetest.MustOpenDB(tb)
	clock := &atomic.Int64{}
	clock.Store(storetest.Now.UnixNano())
	db.Now = func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	return db, clock
}

func testMessage(id, payload string) *ccpor.Transmission {
	return &ccpor.Transmission{ID: id, Payload: []byte(payload)}
}

// messageFiles returns the message files in dir by ID.
func messageFiles(tb testing.TB, dir string) map[string][]byte {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]byte{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(name), ".json")] = b
	}
	return out
}

// TestFileDrop: a message appears whole or not at all, even to a reader
// looking while it is written; sending it again writes nothing; a file of
// its name with other bytes is never replaced.
func TestFileDrop(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// A partial write left by a transmitter that died an hour ago.
	stale := filepath.Join(dir, ".ccpor-7e1c2a4e-0000-4000-8000-000000000001-1.tmp")
	if err := os.WriteFile(stale, []byte(`{"format":`), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	drop, err := openFileDrop(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale partial write left in place: %v", err)
	}

	// A reader polls the directory while large messages are written.
	big := `{"order": "` + strings.Repeat("x", 1<<20) + `"}`
	stop := make(chan struct{})
	var torn atomic.Int32
	var reads atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, b := range messageFiles(t, dir) {
				reads.Add(1)
				if string(b) != big {
					torn.Add(1)
				}
			}
		}
	}()
	var ids []string
	for i := range 20 {
		id := fmt.Sprintf("7e1c2a4e-0000-4000-8000-%012d", i+100)
		ids = append(ids, id)
		if err := drop.Send(ctx, testMessage(id, big)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	<-done
	if torn.Load() > 0 {
		t.Errorf("a reader saw %d partial files (of %d reads)", torn.Load(), reads.Load())
	}
	files := messageFiles(t, dir)
	if len(files) != len(ids) {
		t.Errorf("%d files, want %d", len(files), len(ids))
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".ccpor-*")); len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}

	// Sent again, as after a crash before the database said sent: nothing new.
	fi, _ := os.Stat(filepath.Join(dir, ids[0]+".json"))
	if err := drop.Send(ctx, testMessage(ids[0], big)); err != nil {
		t.Errorf("sending a delivered message again: %v", err)
	}
	if fi2, _ := os.Stat(filepath.Join(dir, ids[0]+".json")); !os.SameFile(fi, fi2) {
		t.Error("sending a delivered message again wrote a new file")
	}
	// Other bytes under the same name: an error, and the file stays.
	if err := drop.Send(ctx, testMessage(ids[0], `{"other": true}`)); err == nil || !strings.Contains(err.Error(), "other content") {
		t.Errorf("other content under a delivered name: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ids[0]+".json")); string(b) != big {
		t.Error("a delivered file was replaced")
	}
	// Consumed by the receiver after it answered: still delivered.
	os.WriteFile(filepath.Join(dir, "ack", ids[1]+".ack"), nil, 0o600)
	os.Remove(filepath.Join(dir, ids[1]+".json"))
	if err := drop.Send(ctx, testMessage(ids[1], big)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ids[1]+".json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a message the receiver answered and removed was written again: %v", err)
	}
	if err := drop.Send(ctx, testMessage("../escape", "{}")); err == nil {
		t.Error("a message ID that is not a UUID was written")
	}
}

// killingTransport is a transmitter's transport that dies at its nth
// send: the process is gone, so the transmitter's context is cancelled
// and nothing after that point reaches the database.
type killingTransport struct {
	inner  *fileDrop
	n      int
	how    string
	cancel context.CancelFunc

	calls  *sendCounts
	sends  int
	killed string // the message being sent when it died
}

func (k *killingTransport) Send(ctx context.Context, m *ccpor.Transmission) error {
	k.calls.add(m.ID)
	k.sends++
	if k.sends != k.n {
		return k.inner.Send(ctx, m)
	}
	k.killed = m.ID
	switch k.how {
	case "before write":
	case "during write":
		// The temporary file is half written when the process dies.
		tmp := filepath.Join(k.inner.dir, ".ccpor-"+m.ID+"-killed.tmp")
		os.WriteFile(tmp, m.Payload[:len(m.Payload)/2], 0o600)
		old := time.Now().Add(-2 * time.Hour)
		os.Chtimes(tmp, old, old)
	case "after write":
		if err := k.inner.Send(ctx, m); err != nil {
			return err
		}
	}
	k.cancel()
	// Whatever it returns, nothing more is done: the next step of the
	// transmitter (marking the message sent) runs on a dead context.
	return nil
}

func (k *killingTransport) Answers(ctx context.Context) ([]Answer, error) {
	return k.inner.Answers(ctx)
}
func (k *killingTransport) Settle(a Answer) error { return k.inner.Settle(a) }

// sendCounts counts the sends of each message, by every transmitter.
type sendCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *sendCounts) add(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[id]++
}

func (c *sendCounts) of(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[id]
}

// countingTransport counts the sends through a transport.
type countingTransport struct {
	*fileDrop
	calls *sendCounts
}

func (c countingTransport) Send(ctx context.Context, m *ccpor.Transmission) error {
	c.calls.add(m.ID)
	return c.fileDrop.Send(ctx, m)
}

// receiver plays the system that takes the files. It notes each message
// file it finds, by file identity, so a message written twice counts
// twice; when it answers, it answers every message it has, and removes the
// files of some it accepted (which the contract allows once answered).
type receiver struct {
	dir      string
	received map[string]int
	files    map[string]os.FileInfo
	answered map[string]bool
}

func (r *receiver) poll(tb testing.TB, answer bool) {
	tb.Helper()
	for id := range messageFiles(tb, r.dir) {
		fi, err := os.Stat(filepath.Join(r.dir, id+".json"))
		if err != nil {
			tb.Fatal(err)
		}
		if prev, ok := r.files[id]; !ok || !os.SameFile(prev, fi) {
			r.files[id] = fi
			r.received[id]++
		}
		if !answer || r.answered[id] {
			continue
		}
		r.answered[id] = true
		// Answers are written whole too: a temporary name, then renamed.
		ext, body := ".ack", ""
		if id[len(id)-1]%3 == 0 {
			ext, body = ".rej", "restrained person's race is required"
		}
		tmp := filepath.Join(r.dir, "ack", "."+id+".tmp")
		if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
			tb.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(r.dir, "ack", id+ext)); err != nil {
			tb.Fatal(err)
		}
		if ext == ".ack" && id[len(id)-1]%2 == 0 {
			os.Remove(filepath.Join(r.dir, id+".json"))
		}
	}
}

// TestTransmitterExactlyOnce is issue 9's "done when": transmitters killed
// before, during and after writing a message, and restarted, deliver
// every message exactly once. Each round a new transmitter (as after a
// restart) works the queue until it dies at a chosen send; the clock then
// moves past its lease. A receiver takes the files between rounds,
// sometimes answering them and removing some. At the end two transmitters at once,
// as two nodes, drain the queue.
func TestTransmitterExactlyOnce(t *testing.T) {
	ctx := context.Background()
	db, clock := transmitDB(t)
	admin := ccpor.NewContextWithUser(ctx, &ccpor.User{Name: "clerk", Role: ccpor.RoleClerk})
	for i := range 12 {
		o := testOrder(t, i)
		if err := db.CreateOrder(admin, o); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if err := db.UpdateOrder(admin, o, "modify", "test"); err != nil {
				t.Fatal(err)
			}
		}
		if i%4 == 0 {
			if err := db.UpdateOrder(admin, o, "terminate", "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	all, err := db.FindTransmissions(ctx, store.TransmissionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	recv := &receiver{dir: dir, received: map[string]int{}, files: map[string]os.FileInfo{}, answered: map[string]bool{}}
	calls := &sendCounts{n: map[string]int{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const lease = time.Minute
	type kill struct {
		n   int    // dies at its nth send
		how string // before, during or after writing the file
		// answered: the receiver answers what it has after this round,
		// so a message written before a kill may be answered while
		// pending; otherwise the restart sends it again and must find it
		// delivered (the receiver has seen it: a second file would count
		// twice).
		answered bool
	}
	kills := []kill{{2, "after write", false}, {1, "before write", true}, {3, "during write", false},
		{1, "after write", true}, {2, "after write", false}}
	killed := map[string]kill{}
	// answerable are the messages pending when the receiver looked: it
	// may have answered them before a restart took them again.
	answerable := map[string]bool{}
	for round, k := range kills {
		drop, err := openFileDrop(dir)
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		kt := &killingTransport{inner: drop, n: k.n, how: k.how, cancel: cancel, calls: calls}
		w := &transmitter{db: db, transport: kt, log: log, poll: time.Millisecond, lease: lease, batch: 3}
		done := make(chan struct{})
		go func() { w.run(runCtx); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cancel()
			<-done
			t.Fatalf("round %d: the transmitter was never killed", round)
		}
		killed[kt.killed] = k
		if k.answered {
			pending, err := db.FindTransmissions(ctx, store.TransmissionFilter{State: ccpor.TransmissionPending})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range pending {
				answerable[m.ID] = true
			}
		}
		recv.poll(t, k.answered)
		clock.Add(int64(lease + time.Second))
	}
	// Restarted on two nodes at once.
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 2 {
		drop, err := openFileDrop(dir)
		if err != nil {
			t.Fatal(err)
		}
		w := &transmitter{db: db, transport: countingTransport{drop, calls}, log: log, poll: time.Millisecond, lease: lease, batch: 2}
		wg.Go(func() { w.run(runCtx) })
	}
	waitFor := func(what string, states ...ccpor.TransmissionState) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for _, state := range states {
			for {
				left, err := db.FindTransmissions(ctx, store.TransmissionFilter{State: state})
				if err != nil {
					t.Fatal(err)
				}
				if len(left) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: %d messages still %s", what, len(left), state)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	waitFor("sending", ccpor.TransmissionPending)
	recv.poll(t, true)
	waitFor("answering", ccpor.TransmissionPending, ccpor.TransmissionSent)
	cancel()
	wg.Wait()

	if len(killed) != len(kills) {
		t.Errorf("killed while sending %d messages, want %d different ones: %v", len(killed), len(kills), killed)
	}
	files := messageFiles(t, dir)
	resent := 0
	for _, m := range all {
		k, wasKilled := killed[m.ID]
		if n := recv.received[m.ID]; n != 1 {
			t.Errorf("message %s (%s, killed %q) received %d times", m.ID, m.Action, k.how, n)
		}
		got, err := db.FindTransmission(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b, ok := files[m.ID]; ok && !bytes.Equal(b, got.Payload) {
			t.Errorf("message %s: file differs from the payload", m.ID)
		}
		want := ccpor.TransmissionAcknowledged
		if m.ID[len(m.ID)-1]%3 == 0 {
			want = ccpor.TransmissionRejected
		}
		if got.State != want || got.SentAt == nil {
			t.Errorf("message %s (killed %q) ends %s, sent at %v; want %s", m.ID, k.how, got.State, got.SentAt, want)
		}
		// The kills took effect: a message the receiver could not have
		// answered before the restart was sent again.
		if wasKilled && !answerable[m.ID] && calls.of(m.ID) < 2 {
			t.Errorf("message %s, killed %s, was sent %d times: the restart did not take it again", m.ID, k.how, calls.of(m.ID))
		}
		if wasKilled && k.how == "after write" && calls.of(m.ID) >= 2 {
			resent++
		}
	}
	if resent == 0 {
		t.Error("no message written before a kill was sent again: the test missed the crash window")
	}
	if len(recv.received) != len(all) {
		t.Errorf("received %d messages, want %d", len(recv.received), len(all))
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".ccpor-*")); len(tmps) > 0 {
		t.Errorf("partial writes left: %v", tmps)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "ack", "*.*")); len(left) > 0 {
		t.Errorf("answers not settled: %v", left)
	}
}

// TestTransmitterAnswers: answers dropped by the receiver are recorded and
// set aside; one that answers no message is set aside too; a failed send
// is retried after its backoff with the error recorded.
func TestTransmitterAnswers(t *testing.T) {
	ctx := context.Background()
	db, clock := transmitDB(t)
	var ids []string
	for i := range 3 {
		o := testOrder(t, i)
		if err := db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, transmissionsOfOrder(t, db, o.ID)[0].ID)
		clock.Add(int64(time.Second))
	}
	dir := t.TempDir()
	drop, err := openFileDrop(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The directory's first write fails: the message waits its backoff.
	broken := &failingTransport{fileDrop: drop, fail: 1}
	w := &transmitter{db: db, transport: broken, log: slog.New(slog.NewTextHandler(io.Discard, nil)), batch: 10}
	if _, err := w.step(ctx); err != nil {
		t.Fatal(err)
	}
	first, _ := db.FindTransmission(ctx, ids[0])
	if first.State != ccpor.TransmissionPending || first.LastError != "disk full" || first.Attempts != 1 {
		t.Errorf("after a failed send: %+v", first)
	}
	if got := len(messageFiles(t, dir)); got != 2 {
		t.Errorf("%d files after the first pass, want 2", got)
	}
	clock.Add(int64(16 * time.Second))
	if _, err := w.step(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if m, _ := db.FindTransmission(ctx, id); m.State != ccpor.TransmissionSent {
			t.Errorf("message %s: %s", id, m.State)
		}
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, "ack", name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(ids[0]+".ack", "")
	write(ids[1]+".rej", "  no such court ORI\n")
	write("7e1c2a4e-0000-4000-8000-00000000ffff.ack", "")
	write("notes.txt", "left alone")
	if _, err := w.step(ctx); err != nil {
		t.Fatal(err)
	}
	for i, want := range []ccpor.TransmissionState{ccpor.TransmissionAcknowledged, ccpor.TransmissionRejected, ccpor.TransmissionSent} {
		m, _ := db.FindTransmission(ctx, ids[i])
		if m.State != want {
			t.Errorf("message %d: %s, want %s", i, m.State, want)
		}
		if i == 1 && m.LastError != "no such court ORI" {
			t.Errorf("rejection reason %q", m.LastError)
		}
	}
	left, _ := os.ReadDir(filepath.Join(dir, "ack"))
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "done notes.txt" {
		t.Errorf("ack directory holds %v, want the answers moved to done", names)
	}
	done, _ := filepath.Glob(filepath.Join(dir, "ack", "done", "*"))
	if len(done) != 3 {
		t.Errorf("done holds %v", done)
	}
}

type failingTransport struct {
	*fileDrop
	fail int
}

func (f *failingTransport) Send(ctx context.Context, m *ccpor.Transmission) error {
	if f.fail > 0 {
		f.fail--
		return errors.New("disk full")
	}
	return f.fileDrop.Send(ctx, m)
}

func transmissionsOfOrder(tb testing.TB, db *store.DB, orderID string) []*ccpor.Transmission {
	tb.Helper()
	ms, err := db.FindTransmissions(context.Background(), store.TransmissionFilter{OrderID: orderID})
	if err != nil {
		tb.Fatal(err)
	}
	return ms
}

// TestTransmitCommand: operators list the queue and record answers that
// came another way; both are audited.
func TestTransmitCommand(t *testing.T) {
	ctx := context.Background()
	url := storetest.MustCreateDatabase(t)
	db := mustOpen(t, url)
	db.Now = func() time.Time { return storetest.Now }
	var ids []string
	for i, county := range []string{"Alameda", "Fresno"} {
		o := testOrder(t, i)
		o.County = county
		if err := db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, transmissionsOfOrder(t, db, o.ID)[0].ID)
	}
	run := func(at time.Time, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		c := &TransmitCommand{Stdout: &out, Stderr: &errOut, now: func() time.Time { return at }}
		c.db.url = url
		err := c.Run(ctx, args)
		return out.String(), err
	}
	out, err := run(storetest.Now, "list", "--county", "fresno")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, ids[1]) || strings.Contains(out, ids[0]) || !strings.Contains(out, "2026-03-03") {
		t.Errorf("list --county fresno:\n%s", out)
	}
	// Entered Monday, due Tuesday: overdue (or due) from Tuesday on.
	if out, _ := run(storetest.Now, "list", "--overdue"); strings.Contains(out, ids[0]) {
		t.Errorf("list --overdue on the day of entry:\n%s", out)
	}
	if out, _ := run(storetest.Now.Add(24*time.Hour), "list", "--overdue"); !strings.Contains(out, ids[0]) || !strings.Contains(out, ids[1]) {
		t.Errorf("list --overdue the day after:\n%s", out)
	}
	if out, err := run(storetest.Now, "ack", ids[0]); err != nil || !strings.Contains(out, "acknowledged") {
		t.Errorf("ack: %v\n%s", err, out)
	}
	if _, err := run(storetest.Now, "reject", ids[1]); err == nil {
		t.Error("reject without a reason")
	}
	if out, err := run(storetest.Now, "reject", "--reason", "unknown ORI", ids[1]); err != nil || !strings.Contains(out, "rejected") {
		t.Errorf("reject: %v\n%s", err, out)
	}
	if _, err := run(storetest.Now, "reject", ids[0], "--reason", "late"); ccpor.ErrorCode(err) != ccpor.EConflict {
		t.Errorf("rejecting an acknowledged message: %v", err)
	}
	out, err = run(storetest.Now, "list", "--state", "rejected")
	if err != nil || !strings.Contains(out, "unknown ORI") || strings.Contains(out, ids[0]) {
		t.Errorf("list --state rejected: %v\n%s", err, out)
	}
	if _, err := run(storetest.Now, "list", "--state", "lost"); err == nil {
		t.Error("an unknown state was listed")
	}
	for action, want := range map[string]int{"transmission.ack": 1, "transmission.reject": 1, "transmission.read": 4} {
		es, err := db.AuditQuery(ctx, store.AuditFilter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != want {
			t.Errorf("%d %s audit entries, want %d", len(es), action, want)
		}
	}
}

// TestServeTransmits: serve --transmit-dir sends what waits as it starts.
func TestServeTransmits(t *testing.T) {
	ctx := context.Background()
	url := storetest.MustCreateDatabase(t)
	db := mustOpen(t, url)
	o := testOrder(t, 1)
	if err := db.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	m := transmissionsOfOrder(t, db, o.ID)[0]
	dir := t.TempDir()
	runCtx, cancel := context.WithCancel(ctx)
	listening := make(chan string, 1)
	cmd := &ServeCommand{Stdout: io.Discard, Stderr: io.Discard, Listening: listening}
	cmd.db.url = url
	done := make(chan error, 1)
	go func() {
		done <- cmd.Run(runCtx, []string{"--addr", "127.0.0.1:0", "--index-dir", t.TempDir(), "--ocr=false", "--transmit-dir", dir})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var addr string
	select {
	case addr = <-listening:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// Ready, too: the index is built (and no longer written to when
		// the test ends).
		got, _ := db.FindTransmission(ctx, m.ID)
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && got.State == ccpor.TransmissionSent {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("serve --transmit-dir did not send the waiting message")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok := messageFiles(t, dir)[m.ID]; !ok {
		t.Errorf("no file for message %s", m.ID)
	}
}
