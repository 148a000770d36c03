//go:build faults

package faults

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgCluster is a throwaway PostgreSQL cluster in a temporary folder, on a
// port of its own, so that the test can crash it without touching any
// other server on the machine.
type pgCluster struct {
	bindir string
	dir    string // holds data/ and the server's log
	port   int
}

// newCluster initialises and starts a cluster; t's cleanup stops it and
// removes its folder. initdb and pg_ctl refuse to run as root: as root,
// they run as the postgres system user, which then owns the folder.
func newCluster(t *testing.T) *pgCluster {
	t.Helper()
	bindir, err := newestBindir()
	if err != nil {
		t.Fatal(err)
	}
	// Orphaned server processes (a postmaster whose pg_ctl has exited, or
	// backends whose postmaster was killed) become this process's
	// children, so that it can reap them: a zombie postmaster would keep
	// the next one from starting.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
	dir, err := os.MkdirTemp("", "orderapi-faults-")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{bindir: bindir, dir: dir, port: freePort(t)}
	t.Cleanup(func() {
		_ = c.pgCtl("stop", "-m", "immediate", "-w", "-t", "30")
		c.reapPostmaster(5 * time.Second)
		_ = os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres:", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown %s to postgres: %v\n%s", dir, err, out)
		}
		if err := asOwner("test", "-w", dir).Run(); err != nil {
			t.Fatalf("the postgres user cannot write to %s (set TMPDIR to a folder it can reach): %v", dir, err)
		}
	}
	// --no-sync and fsync=off: the machine does not crash here, only
	// processes do, and what a process wrote to the kernel survives that.
	// synchronous_commit stays on: a commit is acknowledged only once its
	// WAL is written, so a killed server keeps every acknowledged commit.
	if out, err := asOwner(filepath.Join(bindir, "initdb"), "--auth=trust", "--no-sync", "-U", "postgres",
		"-E", "UTF8", "-D", c.data()).CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	conf := fmt.Sprintf("\n# added by the orderapi crash test\nport = %d\nlisten_addresses = '127.0.0.1'\n"+
		"unix_socket_directories = ''\nfsync = off\nmax_connections = 100\n", c.port)
	if err := asOwner("sh", "-c", "cat >> "+filepath.Join(c.data(), "postgresql.conf")).
		runWithInput(conf); err != nil {
		t.Fatalf("configure the cluster: %v", err)
	}
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	return c
}

const prSetChildSubreaper = 36

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

// url is the URL of database db on the cluster.
func (c *pgCluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// createDB creates database name.
func (c *pgCluster) createDB(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.url("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// start starts the server and waits until it accepts connections, crash
// recovery included.
func (c *pgCluster) start() error {
	if err := c.pgCtl("start", "-w", "-t", "90", "-l", filepath.Join(c.dir, "log")); err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s", err, c.logTail())
	}
	return nil
}

// stopFast is a fast shutdown: sessions are ended, then the server stops.
func (c *pgCluster) stopFast() error {
	if err := c.pgCtl("stop", "-m", "fast", "-w", "-t", "60"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w", err)
	}
	c.reapPostmaster(10 * time.Second)
	return nil
}

// crash kills the postmaster with SIGKILL, as a crash would, then waits
// for its backends, which notice their postmaster's death and exit; any
// still there after a while are killed too. A new postmaster refuses to
// start while an old backend holds the shared memory.
func (c *pgCluster) crash() error {
	pid, err := c.postmasterPID()
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

// postmasterPID reads the postmaster's pid from its lock file.
func (c *pgCluster) postmasterPID() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.data(), "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("read postmaster.pid: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// reapPostmaster reaps the postmaster that has stopped or is stopping.
func (c *pgCluster) reapPostmaster(within time.Duration) {
	if pid, err := c.postmasterPID(); err == nil {
		reap(pid, within)
	}
}

func (c *pgCluster) pgCtl(args ...string) error {
	cmd := asOwner(filepath.Join(c.bindir, "pg_ctl"), append([]string{"-D", c.data()}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// logTail is the end of the server's log, for a failure's report.
func (c *pgCluster) logTail() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// newestBindir is the bin folder of the newest PostgreSQL installed.
func newestBindir() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return "", fmt.Errorf("no PostgreSQL binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
	}
	major := func(p string) int {
		n, _ := strconv.Atoi(strings.Split(filepath.Base(filepath.Dir(filepath.Dir(p))), ".")[0])
		return n
	}
	slices.SortFunc(found, func(a, b string) int { return major(a) - major(b) })
	return filepath.Dir(found[len(found)-1]), nil
}

type ownerCmd struct{ *exec.Cmd }

// asOwner runs a command as the postgres system user when root, from /,
// which that user can enter.
func asOwner(name string, args ...string) ownerCmd {
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	cmd.Dir = "/"
	return ownerCmd{cmd}
}

func (c ownerCmd) runWithInput(in string) error {
	c.Stdin = strings.NewReader(in)
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
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
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
