package ccpor

import "os"

// failpoint is the step at which this process is to die, read once at
// start so that a Failpoint on a hot path costs one string comparison.
var failpoint = os.Getenv("CCPOR_FAILPOINT")

// Failpoint kills the process with SIGKILL when the environment variable
// CCPOR_FAILPOINT names this step. The crash tests (cmd/ccpor's
// fault_test.go) run the binary as a child with it set, so that it dies at
// an exact step — say between the database commit and the index update —
// as a power cut would, without deferred functions, flushes or a graceful
// shutdown. Unset, as in production, it does nothing.
func Failpoint(name string) {
	if failpoint == "" || failpoint != name {
		return
	}
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Kill() // SIGKILL on Unix: nothing of the process runs after it
	}
	select {} // the signal is asynchronous: go no further meanwhile
}
