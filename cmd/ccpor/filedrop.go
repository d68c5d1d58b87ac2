package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/google/uuid"
)

// fileDrop is a transport through a directory that the receiving system
// (a CLETS gateway) shares with the registry:
//
//   - each message is the file DIR/<message id>.json, its payload. It
//     appears whole or not at all: written under a dot-name, fsync'd, then
//     hard-linked to its name (which never replaces a file) and the
//     directory fsync'd before the message is marked sent;
//   - the receiver answers with DIR/ack/<id>.ack (accepted) or
//     DIR/ack/<id>.rej (refused; the file holds the reason). Once an answer
//     is recorded it is moved to DIR/ack/done/.
//
// The receiver may delete a message file only after dropping its answer:
// a message whose file, or answer, is there counts as delivered, which is
// what makes Send idempotent. Every node that transmits must use the same
// directory.
type fileDrop struct {
	dir string
}

// staleTemp is the age after which a dot-file left by a transmitter that
// died while writing is removed.
const staleTemp = time.Hour

// openFileDrop makes DIR, DIR/ack and DIR/ack/done as needed (mode 0750:
// make them beforehand to give the receiving system other rights) and
// removes stale partial writes.
func openFileDrop(dir string) (*fileDrop, error) {
	f := &fileDrop{dir: dir}
	if err := os.MkdirAll(f.doneDir(), 0o750); err != nil {
		return nil, fmt.Errorf("transmission directory: %w", err)
	}
	tmps, err := filepath.Glob(filepath.Join(dir, ".ccpor-*.tmp"))
	if err != nil {
		return nil, err
	}
	for _, name := range tmps {
		if fi, err := os.Stat(name); err == nil && time.Since(fi.ModTime()) > staleTemp {
			os.Remove(name)
		}
	}
	return f, nil
}

func (f *fileDrop) ackDir() string  { return filepath.Join(f.dir, "ack") }
func (f *fileDrop) doneDir() string { return filepath.Join(f.dir, "ack", "done") }

// Send writes msg's payload to DIR/<id>.json, unless it is already
// delivered: the file is there with the same bytes, or an answer to it is.
// A file of that name with other bytes is an error, never overwritten.
func (f *fileDrop) Send(ctx context.Context, msg *ccpor.Transmission) error {
	if _, err := uuid.Parse(msg.ID); err != nil {
		return fmt.Errorf("message id %q is not a UUID", msg.ID)
	}
	name := filepath.Join(f.dir, msg.ID+".json")
	if done, err := f.delivered(name, msg); done || err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.dir, ".ccpor-"+msg.ID+"-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	// Readable by the receiving system when it runs in the registry's
	// group.
	err = tmp.Chmod(0o640)
	if err == nil {
		_, err = tmp.Write(msg.Payload)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), name); errors.Is(err, fs.ErrExist) {
		// Another transmitter, whose lease ran out, got there first.
		if _, err := f.delivered(name, msg); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("deliver %s: %w", name, err)
	}
	return syncDir(f.dir)
}

// delivered reports whether msg is already delivered as the file name.
func (f *fileDrop) delivered(name string, msg *ccpor.Transmission) (bool, error) {
	got, err := os.ReadFile(name)
	if err == nil {
		if !bytes.Equal(got, msg.Payload) {
			return false, fmt.Errorf("%s exists with other content: left alone", name)
		}
		// Durable before the message is marked sent, even if the
		// transmitter that wrote it died before syncing.
		return true, syncDir(f.dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	for _, dir := range []string{f.ackDir(), f.doneDir()} {
		for _, ext := range []string{".ack", ".rej"} {
			if _, err := os.Stat(filepath.Join(dir, msg.ID+ext)); err == nil {
				return true, nil
			}
		}
	}
	return false, nil
}

// Answers returns the answers waiting in DIR/ack. A file whose name is no
// message ID is returned as an answer to no message, to be set aside.
func (f *fileDrop) Answers(ctx context.Context) ([]Answer, error) {
	entries, err := os.ReadDir(f.ackDir())
	if err != nil {
		return nil, err
	}
	var out []Answer
	for _, e := range entries {
		id, ext := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())), filepath.Ext(e.Name())
		if !e.Type().IsRegular() || (ext != ".ack" && ext != ".rej") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		a := Answer{ID: id, Accepted: ext == ".ack", ref: e.Name()}
		if !a.Accepted {
			b, err := os.ReadFile(filepath.Join(f.ackDir(), e.Name()))
			if err != nil {
				return nil, err
			}
			a.Reason = strings.ToValidUTF8(strings.TrimSpace(string(b)), "?")
		}
		out = append(out, a)
	}
	return out, ctx.Err()
}

// Settle moves a recorded answer to DIR/ack/done.
func (f *fileDrop) Settle(a Answer) error {
	err := os.Rename(filepath.Join(f.ackDir(), a.ref), filepath.Join(f.doneDir(), a.ref))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // another node settled it
	} else if err != nil {
		return err
	}
	return syncDir(f.ackDir())
}

// syncDir makes the names in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
