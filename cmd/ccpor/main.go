// Command ccpor runs the protective order registry: the API server and the
// commands that set up, fill and administer its database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ccpor/ccpor/store"
	_ "time/tzdata" // California dates must not depend on the host's zoneinfo
)

const usage = `ccpor is the protective order registry.

Usage:
  ccpor <command> [flags]

Commands:
  serve    run the API server (and seed demo data with --demo N)
  migrate  bring the database schema up to date
  seed     add synthetic demo orders
  import   add orders from an NDJSON file
  reindex  rebuild the search index from the database and swap it in
  user     manage users and their bearer tokens
  audit    verify the audit trail's hash chain, or list its entries
  ocr      say whether this machine reads scans (status), or queue failed ones again (retry)
  transmit list the law-enforcement transmission queue, or record an answer (ack, reject)

Every command finds PostgreSQL by itself: DATABASE_URL when set, else the
local server on 127.0.0.1:5432 (database "ccpor", created when missing),
else a throwaway cluster it starts under --data-dir.
Run "ccpor <command> --help" for a command's flags.
`

func main() {
	ctx, stop := signalContext()
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var exit exitError
		if !errors.Is(err, flag.ErrHelp) && !errors.As(err, &exit) {
			fmt.Fprintln(os.Stderr, "ccpor:", err)
		}
		if errors.As(err, &exit) {
			os.Exit(int(exit))
		}
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(1)
	}
}

// errTerminated is the cause of main's context when SIGTERM ended it:
// a service manager or orchestrator asking the process to go, which serve
// answers by draining first (--drain). SIGINT is someone at a terminal,
// who wants it to stop now.
var errTerminated = errors.New("terminated by SIGTERM")

// signalContext is a context ended by SIGINT or SIGTERM, whose cause says
// which (errTerminated for SIGTERM).
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sigs:
			if s == syscall.SIGTERM {
				cancel(errTerminated)
			} else {
				cancel(context.Canceled)
			}
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(sigs); cancel(nil) }
}

// exitError asks main for a particular exit status.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return (&ServeCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "migrate":
		return (&MigrateCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "seed":
		return (&SeedCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "import":
		return (&ImportCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "reindex":
		return (&ReindexCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "user":
		return (&UserCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "audit":
		return (&AuditCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "ocr":
		return (&OCRCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "transmit":
		return (&TransmitCommand{Stdout: stdout, Stderr: stderr}).Run(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// dbFlags are the flags every command that opens the database shares.
type dbFlags struct {
	dataDir string
	dbName  string
	url     string // set by tests: use this database as it is
}

func (f *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", ".data", "directory for a throwaway PostgreSQL cluster when no server is found")
	fs.StringVar(&f.dbName, "db", "ccpor", "database to use on a found server (ignored with DATABASE_URL)")
}

// open finds or starts PostgreSQL, creates the database when needed and
// migrates it.
func (f *dbFlags) open(ctx context.Context, log *slog.Logger) (*store.DB, error) {
	if f.url != "" {
		return store.Open(ctx, f.url)
	}
	admin, err := store.Locate(ctx, f.dataDir, log)
	if err != nil {
		return nil, err
	}
	url, err := store.EnsureDatabase(ctx, admin, f.dbName)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return store.Open(ctx, url)
}

func newFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: ccpor %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}
