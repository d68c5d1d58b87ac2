package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// Tools are the external programs found; "" where absent.
//
// The zero timeouts mean the defaults: 30 s for each poppler program, 90 s
// for one page of OCR.
type Tools struct {
	Pdfinfo, Pdftoppm, Pdfdetach, Tesseract string

	ToolTimeout time.Duration // each run of pdfinfo, pdfdetach, pdftoppm
	OCRTimeout  time.Duration // each run of tesseract
}

const (
	defaultToolTimeout = 30 * time.Second
	defaultOCRTimeout  = 90 * time.Second

	// memoryLimitKB bounds the address space of every external program. A
	// hostile PDF can ask poppler for a page of any size, and tesseract's
	// memory grows with the page; neither may take the machine down with it.
	memoryLimitKB = 1536 * 1024

	// maxToolOutput bounds what is kept of a program's standard output: a
	// page of text or a page rendered as PNG is far below it.
	maxToolOutput = 64 << 20
	maxToolStderr = 64 << 10
)

// FindTools looks each program up on PATH.
func FindTools() Tools {
	look := func(name string) string {
		p, err := exec.LookPath(name)
		if err != nil {
			return ""
		}
		return p
	}
	return Tools{
		Pdfinfo:   look("pdfinfo"),
		Pdftoppm:  look("pdftoppm"),
		Pdfdetach: look("pdfdetach"),
		Tesseract: look("tesseract"),
	}
}

// OCR reports whether tesseract is present, that is whether the OCR feature
// is on.
func (t Tools) OCR() bool { return t.Tesseract != "" }

// PDF reports whether pdfinfo, pdftoppm and pdfdetach are all present, which
// checking and rendering PDFs need.
func (t Tools) PDF() bool { return t.Pdfinfo != "" && t.Pdftoppm != "" && t.Pdfdetach != "" }

func (t Tools) toolTimeout() time.Duration {
	if t.ToolTimeout > 0 {
		return t.ToolTimeout
	}
	return defaultToolTimeout
}

func (t Tools) ocrTimeout() time.Duration {
	if t.OCRTimeout > 0 {
		return t.OCRTimeout
	}
	return defaultOCRTimeout
}

func unavailable(program, purpose string) error {
	return fmt.Errorf("%w: %s is needed to %s and was not found on PATH", ErrUnavailable, program, purpose)
}

// errTimedOut marks a run ended by its own timeout rather than the caller's
// context: the file took too long, which is the file's fault.
var errTimedOut = errors.New("scan: external program timed out")

// runResult is what one run of an external program left.
type runResult struct {
	stdout, stderr []byte
	err            error // the exit error, if the program failed
}

// run runs program with args under timeout and the address-space limit, with
// OpenMP held to one thread so that one run never takes both cores. It returns
// an error itself only when the program could not be run or the caller's ctx
// ended; errTimedOut (wrapped) when the timeout did; a failed exit is left in
// the result for the caller to judge.
func run(ctx context.Context, timeout time.Duration, program string, args ...string) (runResult, error) {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := limited(tctx, program, args)
	cmd.Env = toolEnv()
	stdout := &capped{max: maxToolOutput}
	stderr := &capped{max: maxToolStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	ownGroup(cmd)
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	res := runResult{stdout: stdout.Bytes(), stderr: stderr.Bytes(), err: err}
	switch {
	case ctx.Err() != nil:
		return res, ctx.Err()
	case tctx.Err() != nil:
		return res, fmt.Errorf("%w: %s after %v", errTimedOut, program, timeout)
	case err != nil:
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return res, fmt.Errorf("scan: run %s: %w", program, err)
		}
	}
	if stdout.overflow {
		return res, fmt.Errorf("scan: %s wrote more than %d bytes", program, maxToolOutput)
	}
	return res, nil
}

// passedEnv are the only variables of the server's environment the tools
// see: they parse hostile files, and have no business with its secrets.
var passedEnv = []string{"PATH", "HOME", "TMPDIR", "TESSDATA_PREFIX", "FONTCONFIG_PATH", "FONTCONFIG_FILE", "XDG_CACHE_HOME"}

func toolEnv() []string {
	env := []string{"OMP_THREAD_LIMIT=1", "LC_ALL=C"}
	for _, k := range passedEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// limited builds the command that runs program under the address-space
// limit: through sh's ulimit, which every Unix has, or prlimit failing that.
func limited(ctx context.Context, program string, args []string) *exec.Cmd {
	if sh, err := exec.LookPath("sh"); err == nil {
		// "$0" and "$@" pass the program and its arguments through without
		// the shell reading them, so no file name can become shell syntax.
		script := fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, memoryLimitKB)
		return exec.CommandContext(ctx, sh, append([]string{"-c", script, program}, args...)...)
	}
	if pl, err := exec.LookPath("prlimit"); err == nil {
		as := fmt.Sprintf("--as=%d", memoryLimitKB*1024)
		return exec.CommandContext(ctx, pl, append([]string{as, "--", program}, args...)...)
	}
	return exec.CommandContext(ctx, program, args...)
}

// capped keeps the first max bytes written to it and notes the overflow,
// so a runaway program cannot fill memory through its output.
type capped struct {
	bytes.Buffer
	max      int
	overflow bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); len(p) > room {
		c.overflow = true
		if room > 0 {
			c.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return c.Buffer.Write(p)
}
