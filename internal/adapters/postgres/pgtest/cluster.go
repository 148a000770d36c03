package pgtest

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
	"testing"

	"github.com/jackc/pgx/v5"
)

// Cluster is a PostgreSQL cluster of one test's own: initdb into a
// temporary folder, its own port. Tests use one to do what they must not
// do to a shared server: change settings that need a restart, stop or
// crash it, make a standby of it.
type Cluster struct {
	bindir string
	dir    string // holds data/ and the server's log
	port   int
}

// NewCluster initialises and starts a cluster with the given lines added
// to its postgresql.conf; t's cleanup stops it and removes its folder.
// initdb and pg_ctl refuse to run as root: as root, they run as the
// postgres system user, which then owns the folder.
func NewCluster(t testing.TB, conf ...string) *Cluster {
	t.Helper()
	c := newCluster(t)
	// --no-sync and fsync=off: the machine does not crash here, only
	// processes do, and what a process wrote to the kernel survives that.
	if out, err := asOwner(filepath.Join(c.bindir, "initdb"), "--auth=trust", "--no-sync", "-U", "postgres",
		"-E", "UTF8", "-D", c.Data()).CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.configure(t, append([]string{"fsync = off", "max_connections = 100"}, conf...))
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// newCluster makes the folder and picks the port of a cluster; t's cleanup
// stops the server and removes the folder.
func newCluster(t testing.TB) *Cluster {
	t.Helper()
	bindir, err := newestBindir("initdb", "postgresql")
	if err != nil {
		t.Fatalf("%v: this test runs a cluster of its own", err)
	}
	dir, err := os.MkdirTemp("", "orderapi-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{bindir: bindir, dir: dir, port: FreePort(t)}
	t.Cleanup(func() {
		_ = c.PgCtl("stop", "-m", "immediate", "-w", "-t", "30")
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
	return c
}

// configure appends the cluster's own settings, and conf, to its
// postgresql.conf.
func (c *Cluster) configure(t testing.TB, conf []string) {
	t.Helper()
	lines := append([]string{"", "# added by an orderapi test", fmt.Sprintf("port = %d", c.port),
		"listen_addresses = '127.0.0.1'", "unix_socket_directories = ''"}, conf...)
	cmd := asOwner("sh", "-c", "cat >> "+filepath.Join(c.Data(), "postgresql.conf"))
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("configure the cluster: %v\n%s", err, out)
	}
}

// Standby makes a hot standby of c, streaming from it, and starts it; t's
// cleanup stops it and removes its folder.
func (c *Cluster) Standby(t testing.TB) *Cluster {
	t.Helper()
	s := newCluster(t)
	if out, err := asOwner(filepath.Join(c.bindir, "pg_basebackup"), "-h", "127.0.0.1", "-p", strconv.Itoa(c.port),
		"-U", "postgres", "-D", s.Data(), "-R", "--no-sync", "-X", "stream", "--checkpoint=fast").CombinedOutput(); err != nil {
		t.Fatalf("pg_basebackup: %v\n%s", err, out)
	}
	s.configure(t, []string{"hot_standby = on"})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// Data is the cluster's data folder.
func (c *Cluster) Data() string { return filepath.Join(c.dir, "data") }

// URL is the URL of database db on the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// CreateDatabase creates database name.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// NewDatabase creates a database, applies the migrations to it and
// returns its URL.
func (c *Cluster) NewDatabase(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupWait)
	defer cancel()
	if err := c.CreateDatabase(ctx, name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	if err := migrate(ctx, c.URL(name)); err != nil {
		t.Fatalf("migrate database %s: %v", name, err)
	}
	return c.URL(name)
}

// Start starts the server and waits until it accepts connections, crash
// recovery included.
func (c *Cluster) Start() error {
	if err := c.PgCtl("start", "-w", "-t", "90", "-l", filepath.Join(c.dir, "log")); err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s", err, c.LogTail())
	}
	return nil
}

// Stop stops the server with pg_ctl's shutdown mode (smart, fast or
// immediate) and waits until it is down.
func (c *Cluster) Stop(mode string) error {
	if err := c.PgCtl("stop", "-m", mode, "-w", "-t", "60"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w", err)
	}
	return nil
}

// Promote promotes a standby and waits until it takes writes.
func (c *Cluster) Promote() error {
	if err := c.PgCtl("promote", "-w", "-t", "60"); err != nil {
		return fmt.Errorf("pg_ctl promote: %w", err)
	}
	return nil
}

// PgCtl runs pg_ctl on the cluster's data folder.
func (c *Cluster) PgCtl(args ...string) error {
	cmd := asOwner(filepath.Join(c.bindir, "pg_ctl"), append([]string{"-D", c.Data()}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// PostmasterPID reads the postmaster's pid from its lock file.
func (c *Cluster) PostmasterPID() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.Data(), "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("read postmaster.pid: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// LogTail is the end of the server's log, for a failure's report.
func (c *Cluster) LogTail() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// newestBindir is the bin folder of the newest PostgreSQL installed that
// has the program: Debian's layout, else the program on PATH, else
// pg_config's. package names the package that installs it, for the error.
func newestBindir(program, pkg string) (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + program)
	if len(found) == 0 {
		if path, err := exec.LookPath(program); err == nil {
			return filepath.Dir(path), nil
		}
		if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
			if dir := strings.TrimSpace(string(out)); dir != "" {
				if _, err := os.Stat(filepath.Join(dir, program)); err == nil {
					return dir, nil
				}
			}
		}
		return "", fmt.Errorf("no PostgreSQL program %s under /usr/lib/postgresql/*/bin, on PATH or at pg_config --bindir (apt-get install %s)", program, pkg)
	}
	major := func(p string) int {
		n, _ := strconv.Atoi(strings.Split(filepath.Base(filepath.Dir(filepath.Dir(p))), ".")[0])
		return n
	}
	slices.SortFunc(found, func(a, b string) int { return major(a) - major(b) })
	return filepath.Dir(found[len(found)-1]), nil
}

// asOwner runs a command as the postgres system user when root, from /,
// which that user can enter.
func asOwner(name string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	cmd.Dir = "/"
	return cmd
}

// FreePort is a TCP port nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
