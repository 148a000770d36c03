//go:build faults

package faults

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
)

// service runs the real orderapi binary, always on the same address, so
// that clients carry on across its restarts.
type service struct {
	bin, dbURL, addr, logPath string
	// devDir keeps the development key the service verifies tokens with;
	// token, signed with it, grants staff and service: every route.
	devDir, token string
	// env is more of the service's environment (the NATS relay's).
	env    []string
	cmd    *exec.Cmd
	exited chan struct{}
}

// binaryAndCluster builds the service's binary while a PostgreSQL
// cluster of the test's own starts, and returns both.
func binaryAndCluster(t *testing.T) (string, *pgCluster) {
	t.Helper()
	built := make(chan error, 1)
	var bin string
	go func() {
		var err error
		bin, err = buildBinary(t.TempDir())
		built <- err
	}()
	pg := newCluster(t)
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	return bin, pg
}

// buildBinary builds orderapi as a release is built, into dir.
func buildBinary(dir string) (string, error) {
	bin := filepath.Join(dir, "orderapi")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/orderapi/orderapi/cmd/orderapi")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

func newService(t *testing.T, bin, dbURL string) *service {
	return newServiceIn(t, bin, dbURL, filepath.Join(t.TempDir(), "orderapi-dev"))
}

// newServiceIn is newService keeping its development keys (signing and
// master) in devDir, made there if it has none: replicas of one database
// share them, as every deployment's replicas share their keys.
func newServiceIn(t *testing.T, bin, dbURL, devDir string) *service {
	s := &service{bin: bin, dbURL: dbURL, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		logPath: filepath.Join(t.TempDir(), "orderapi.log"), devDir: devDir}
	key, _, err := jwtauth.OpenDevKey(s.devDir)
	if err != nil {
		t.Fatal(err)
	}
	// The master key the service and the tests' stores share.
	if _, _, err := personaldata.OpenDevMasterKey(s.devDir); err != nil {
		t.Fatal(err)
	}
	if s.token, err = key.Mint(jwtauth.DevToken{Subject: "fault-test", Roles: []string{"staff", "service"}, TTL: 24 * time.Hour}, time.Now()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd != nil {
			s.stop()
		}
	})
	return s
}

func (s *service) base() string { return "http://" + s.addr }

// start starts the binary and waits until it answers /readyz.
func (s *service) start(ctx context.Context) error {
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(s.bin, "serve")
	// Development mode: the master key is made in devDir too.
	cmd.Env = append(os.Environ(), "DATABASE_URL="+s.dbURL, "ORDERAPI_ADDR="+s.addr, "LOG_LEVEL=info",
		"ORDERAPI_AUTH=dev", "ORDERAPI_AUTH_DEV_DIR="+s.devDir, "ORDERAPI_MASTER_KEY_FILE=")
	// The workers are one caller sending commands as fast as the service
	// answers: rates that never refuse one.
	cmd.Env = append(cmd.Env, "ORDERAPI_RATE_COMMANDS=1000000/s burst 1000000", "ORDERAPI_RATE_READS=1000000/s burst 1000000")
	cmd.Env = append(cmd.Env, s.env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exited) }()
	client := &http.Client{Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.base()+"/readyz", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("orderapi exited at start:\n%s", s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("orderapi not ready after 90s:\n%s", s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// kill kills the process with SIGKILL: no shutdown, no cleanup.
func (s *service) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

// stop stops it gracefully, or kills it if it hangs.
func (s *service) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// logTail is the end of the service's log, for a failure's report.
func (s *service) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// logLines returns the log lines that contain every one of words.
func (s *service) logLines(words ...string) []string {
	b, _ := os.ReadFile(s.logPath)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if ok && line != "" {
			out = append(out, line)
		}
	}
	return out
}

// verifyProjections runs `orderapi projections verify`, which compares
// every read model with a replay of the events, and returns its summary;
// ok is false when this build has no such command. It is run in the
// service's development mode, with its master key.
func (s *service) verifyProjections(ctx context.Context) (summary string, ok bool, err error) {
	bin, dbURL := s.bin, s.dbURL
	help, _ := exec.CommandContext(ctx, bin, "help").Output()
	if !strings.Contains(string(help), "projections verify") {
		return "", false, nil
	}
	cmd := exec.CommandContext(ctx, bin, "projections", "verify")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "LOG_LEVEL=warn", "ORDERAPI_AUTH=dev", "ORDERAPI_AUTH_DEV_DIR="+s.devDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", true, fmt.Errorf("orderapi projections verify: %w\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], true, nil
}

// keyring is the keyring of the service's development master key, over
// pool: what a store of the tests needs to read what the service sealed.
func (s *service) keyring(t *testing.T, pool *pgxpool.Pool) *personaldata.Keyring {
	t.Helper()
	master, _, err := personaldata.OpenDevMasterKey(s.devDir)
	if err != nil {
		t.Fatal(err)
	}
	return personaldata.NewKeyring(datakeys.New(pool), personaldata.NewMasterKeys(master))
}
