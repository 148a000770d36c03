package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds orderapi as `go build` does for production. It builds
// the source tree as it is now, which is not always what the test binary
// was compiled from: the log names the binary by its hash, so that runs of
// different code can be told apart.
func buildBinary(t *testing.T) string {
	t.Helper()
	start := time.Now()
	bin := filepath.Join(t.TempDir(), "orderapi")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	t.Logf("built in %s, sha256 %s", time.Since(start).Round(time.Millisecond), hex.EncodeToString(sum[:6]))
	return bin
}

// replica is one server process.
type replica struct {
	index int
	base  string
	cmd   *exec.Cmd
	dead  atomic.Bool
	tail  *logTail // its last log lines, for a failure's report
}

var replicaCount atomic.Int32

// startReplica starts a server process of bin on dbURL, with the
// variables of env ("NAME=value") added to its environment.
func startReplica(t *testing.T, bin, dbURL string, env ...string) *replica {
	t.Helper()
	r := &replica{index: int(replicaCount.Add(1)), tail: newLogTail(replicaTailLines)}
	// Its name in pg_stat_activity, for the database snapshots.
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", fmt.Sprintf("orderapi-replica-%d", r.index))
	u.RawQuery = q.Encode()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+u.String(), "ORDERAPI_ADDR=127.0.0.1:0", "LOG_LEVEL=info")
	cmd.Env = append(cmd.Env, devAuthEnv(t)...)
	for k, v := range manyRequestsEnv {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = r.tail
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.cmd = cmd
	t.Cleanup(func() {
		if r.dead.Load() {
			return
		}
		// A graceful stop, as a deploy would do; SIGKILL if it hangs.
		stopping := time.Now()
		defer func() {
			if d := time.Since(stopping); d > 2*time.Second {
				t.Logf("replica %d took %s to stop; its last log lines:\n%s", r.index, d.Round(time.Millisecond), r.tail)
			}
		}()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("replica %d exited with %v after SIGTERM", r.index, err)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("replica %d ignored SIGTERM", r.index)
		}
	})
	r.base = "http://" + waitForAddr(t, io.TeeReader(stdout, r.tail))
	return r
}

func (r *replica) kill(t *testing.T) {
	r.dead.Store(true)
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("kill replica %d: %v", r.index, err)
	}
	_ = r.cmd.Wait()
}
