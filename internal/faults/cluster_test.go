//go:build faults

package faults

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// pgCluster is a throwaway PostgreSQL cluster in a temporary folder, on a
// port of its own, so that the test can crash it without touching any
// other server on the machine.
type pgCluster struct {
	*pgtest.Cluster
}

// newCluster initialises and starts a cluster; t's cleanup stops it and
// removes its folder.
func newCluster(t *testing.T) *pgCluster {
	t.Helper()
	// Orphaned server processes (a postmaster whose pg_ctl has exited, or
	// backends whose postmaster was killed) become this process's
	// children, so that it can reap them: a zombie postmaster would keep
	// the next one from starting.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
	// synchronous_commit stays on: a commit is acknowledged only once its
	// WAL is written, so a killed server keeps every acknowledged commit
	// (fsync is off: the machine does not crash here, only processes do).
	c := &pgCluster{pgtest.NewCluster(t)}
	// Runs before the cluster's own cleanup, which then finds it stopped.
	t.Cleanup(func() {
		_ = c.Stop("immediate")
		c.reapPostmaster(5 * time.Second)
	})
	return c
}

const prSetChildSubreaper = 36

// url is the URL of database db on the cluster.
func (c *pgCluster) url(db string) string { return c.URL(db) }

// createDB creates database name.
func (c *pgCluster) createDB(ctx context.Context, name string) error {
	return c.CreateDatabase(ctx, name)
}

// start starts the server and waits until it accepts connections, crash
// recovery included.
func (c *pgCluster) start() error { return c.Start() }

// stopFast is a fast shutdown: sessions are ended, then the server stops.
func (c *pgCluster) stopFast() error {
	if err := c.Stop("fast"); err != nil {
		return err
	}
	c.reapPostmaster(10 * time.Second)
	return nil
}

// logTail is the end of the server's log, for a failure's report.
func (c *pgCluster) logTail() string { return c.LogTail() }

// crash kills the postmaster with SIGKILL, as a crash would, then waits
// for its backends, which notice their postmaster's death and exit; any
// still there after a while are killed too. A new postmaster refuses to
// start while an old backend holds the shared memory.
func (c *pgCluster) crash() error {
	pid, err := c.PostmasterPID()
	if err != nil {
		return err
	}
	children := childrenOf(pid)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill -9 the postmaster %d: %w", pid, err)
	}
	reap(pid, 10*time.Second)
	deadline := time.Now().Add(15 * time.Second)
	for _, child := range children {
		if !reap(child, time.Until(deadline)) {
			_ = syscall.Kill(child, syscall.SIGKILL)
			reap(child, 5*time.Second)
		}
	}
	return nil
}

// reapPostmaster reaps the postmaster that has stopped or is stopping.
func (c *pgCluster) reapPostmaster(within time.Duration) {
	if pid, err := c.PostmasterPID(); err == nil {
		reap(pid, within)
	}
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(p); ok && ppid == pid {
			kids = append(kids, p)
		}
	}
	return kids
}

func parentOf(pid int) (int, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	rest := string(b[bytes.LastIndexByte(b, ')')+1:])
	fields := strings.Fields(rest)
	if len(fields) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(fields[1])
	return ppid, err == nil
}

// reap waits up to within for process pid to exit, reaping it if it is
// this process's child, and reports whether it is gone.
func reap(pid int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if got == pid {
			return true
		}
		if err != nil && syscall.Kill(pid, 0) != nil {
			return true // not our child, and gone
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort is a TCP port nothing listens on now.
func freePort(t *testing.T) int { return pgtest.FreePort(t) }
