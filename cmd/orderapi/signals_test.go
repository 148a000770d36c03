package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestSignalsOfTheRealBinary sends the built binary what operators and
// shells send it: a hangup stops it gracefully, and a closed stdout does
// not stop it at all.
func TestSignalsOfTheRealBinary(t *testing.T) {
	bin := buildBinary(t)

	t.Run("SIGHUP drains and exits like SIGTERM", func(t *testing.T) {
		t.Parallel()
		// Given the service running
		p := startProcess(t, bin, pgtest.NewURL(t))

		// When it gets a hangup
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}

		// Then it shuts down as on SIGTERM, and exits 0
		if err := p.wait(t); err != nil {
			t.Fatalf("exited with %v after SIGHUP; stderr:\n%s", err, p.stderr)
		}
		if !strings.Contains(p.logs.String(), `"shutting down"`) {
			t.Errorf("no graceful shutdown in the log:\n%s", p.logs)
		}
	})

	t.Run("a closed stdout does not kill it", func(t *testing.T) {
		t.Parallel()
		// Given the service running with its stdout a pipe, as in
		// orderapi serve | head -1, whose reader then goes away
		p := startProcess(t, bin, pgtest.NewURL(t))
		if err := p.stdout.Close(); err != nil {
			t.Fatal(err)
		}

		// When it serves requests, each logging a line, over many flushes
		// of the log
		client := &http.Client{Timeout: 10 * time.Second, Transport: bearer{}}
		for i := range 40 {
			resp, err := client.Get(p.base + "/readyz")
			if err != nil {
				t.Fatalf("request %d after stdout closed: %v; stderr:\n%s", i, err, p.stderr)
			}
			resp.Body.Close()
			time.Sleep(logFlushEvery / 2)
		}

		// Then it still serves, counts the lines it could not write, said
		// so once on stderr, and stops cleanly
		resp, err := client.Get(p.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(metrics), "orderapi_log_lines_dropped_total 0") || !strings.Contains(string(metrics), "orderapi_log_lines_dropped_total ") {
			t.Errorf("dropped log lines not counted:\n%s", grepLines(string(metrics), "orderapi_log_lines_dropped_total"))
		}
		if n := strings.Count(p.stderr.String(), "writing the log failed"); n != 1 {
			t.Errorf("stderr told of the failed log %d times:\n%s", n, p.stderr)
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := p.wait(t); err != nil {
			t.Fatalf("exited with %v after SIGTERM; stderr:\n%s", err, p.stderr)
		}
	})
}

// process is the built binary serving on a free port.
type process struct {
	cmd    *exec.Cmd
	base   string
	stdout *os.File // the rest of its log, unread
	logs   *logTail // the log lines read
	stderr *logTail
	exited chan struct{} // closed once it ended, with err set
	err    error
}

// startProcess starts `orderapi serve` and reads its log up to the
// "serving" line. The process is killed at the end of the test if it
// still runs.
func startProcess(t *testing.T, bin, dbURL string) *process {
	t.Helper()
	p := &process{logs: newLogTail(200), stderr: newLogTail(200), exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "ORDERAPI_ADDR=127.0.0.1:0")
	p.cmd.Env = append(p.cmd.Env, devAuthEnv(t)...)
	p.cmd.Stderr = p.stderr
	// A pipe of the test's own, not StdoutPipe: Wait would close that
	// one, maybe before the last lines were read.
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdout = stdout
	p.cmd.Stdout = w
	err = p.cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	addr := make(chan string, 1)
	go func() {
		defer close(addr)
		sc := bufio.NewScanner(io.TeeReader(stdout, p.logs))
		for sc.Scan() {
			var line struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "serving" {
				addr <- line.Addr
				return
			}
		}
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("the service ended before serving; stderr:\n%s", p.stderr)
		}
		p.base = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatalf("the service did not serve within 30s; log:\n%s\nstderr:\n%s", p.logs, p.stderr)
	}
	return p
}

// wait returns how the process ended, reading what remains of its log
// (if its stdout is still open) up to its end.
func (p *process) wait(t *testing.T) error {
	t.Helper()
	read := make(chan struct{})
	go func() {
		defer close(read)
		_, _ = io.Copy(p.logs, p.stdout)
	}()
	select {
	case <-read:
	case <-time.After(30 * time.Second):
		t.Fatal("the service did not stop within 30s")
	}
	select {
	case <-p.exited:
		var exit *exec.ExitError
		if errors.As(p.err, &exit) && !exit.Exited() {
			return errors.New(exit.String())
		}
		return p.err
	case <-time.After(30 * time.Second):
		t.Fatal("the service did not stop within 30s")
		return nil
	}
}

// grepLines returns the lines of s that contain substr.
func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
