package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// server is a running orderapi process: the production binary with the
// production configuration, but for its database, its address, rate
// limits it never reaches and the settings a scenario names.
type server struct {
	addr string
	cmd  *exec.Cmd
	log  *os.File
	done chan error
	// token authenticates get's requests.
	token string
	// readyIn is how long it took from its start to answer /readyz with
	// 200 (its migrations, run before, not counted).
	readyIn time.Duration
}

// startServer migrates the database with the binary, then serves on a free
// loopback port and waits until /readyz answers 200. Its log goes to
// logPath: production logs every request, so the bench does too. It
// verifies the tokens of auth.
func startServer(ctx context.Context, bin, databaseURL, logPath string, auth *tokens, env ...string) (*server, error) {
	migrate := exec.CommandContext(ctx, bin, "migrate")
	migrate.Env = append(os.Environ(), "DATABASE_URL="+databaseURL)
	if out, err := migrate.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s migrate: %w\n%s", bin, err, out)
	}

	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL, "ORDERAPI_ADDR="+addr)
	cmd.Env = append(cmd.Env, auth.env()...)
	// Every client of the bench is one caller, sending thousands of
	// requests a second: rates that never refuse one, still counted, so
	// that what limiting costs is measured.
	cmd.Env = append(cmd.Env, "ORDERAPI_RATE_COMMANDS=1000000/s burst 1000000", "ORDERAPI_RATE_READS=1000000/s burst 1000000")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = log, log
	started := time.Now()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{addr: addr, cmd: cmd, log: log, done: make(chan error, 1), token: auth.staff}
	go func() { s.done <- cmd.Wait() }()
	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w; its log: %s\n%s", err, logPath, tail(logPath, 20))
	}
	s.readyIn = time.Since(started)
	return s, nil
}

func (s *server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			return fmt.Errorf("server exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		resp, err := client.Get("http://" + s.addr + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("server not ready after 30s")
}

// get fetches a path with net/http: for the few requests outside the
// measurements.
func (s *server) get(path string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+s.addr+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	return b, nil
}

// stop asks the server to shut down and waits for it, killing it if it
// takes too long.
func (s *server) stop() error {
	defer s.log.Close()
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		return err
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		return fmt.Errorf("server did not stop within 20s: %v", <-s.done)
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// workspace makes a run's temporary folder, which the caller removes, and
// finds the server binary: bin, or one built into the folder if empty.
func workspace(ctx context.Context, bin string, stdout io.Writer) (tmp, server string, err error) {
	if tmp, err = os.MkdirTemp("", "orderbench-"); err != nil {
		return "", "", err
	}
	if bin == "" {
		fmt.Fprintln(stdout, "building ./cmd/orderapi")
		if bin, err = buildServer(ctx, tmp); err != nil {
			os.RemoveAll(tmp)
			return "", "", err
		}
	}
	return tmp, bin, nil
}

// buildServer builds cmd/orderapi of the module in the working directory
// into dir, as `make build` does, when no binary is given.
func buildServer(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || len(bytes.TrimSpace(gomod)) == 0 {
		return "", fmt.Errorf("find the module to build orderapi from (run from its folder, or set BENCH_SERVER): %v", err)
	}
	bin := filepath.Join(dir, "orderapi")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/orderapi")
	cmd.Dir = filepath.Dir(string(bytes.TrimSpace(gomod)))
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/orderapi: %w\n%s", err, out)
	}
	return bin, nil
}

// tail returns a file's last n lines, for error reports.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return lastLines(string(b), n)
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
