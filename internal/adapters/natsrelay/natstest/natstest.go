// Package natstest gives tests a NATS server with JetStream, and each
// test a stream and subject prefix of its own, deleted when it ends. It
// uses the server at 127.0.0.1:4222 when that one answers with
// JetStream, else starts nats-server on a free port. Under CI=true a test
// that can have no server fails rather than skips.
package natstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// machineURL is the machine's NATS server.
const machineURL = "nats://127.0.0.1:4222"

var (
	shared     sync.Once
	sharedURL  string
	sharedErr  error
	serverBin  = "nats-server"
	startWait  = 10 * time.Second
	reachRetry = 50 * time.Millisecond
)

// URL is a NATS server with JetStream for the test: the machine's, or one
// started for the test binary (stopped when the process ends).
func URL(t testing.TB) string {
	t.Helper()
	shared.Do(func() {
		if jetStreamAnswers(machineURL) {
			sharedURL = machineURL
			return
		}
		sharedURL, sharedErr = start(os.TempDir(), 0, nil, nil)
	})
	if sharedErr != nil {
		t.Fatalf("no NATS server with JetStream: %v (install nats-server, or run one with -js on 127.0.0.1:4222)", sharedErr)
	}
	return sharedURL
}

// Server is a nats-server the test started and controls.
type Server struct {
	URL  string
	Port int
	dir  string
	sd   string
	cmd  *exec.Cmd
	// user and pass, when set, are the one account the server accepts.
	user, pass string
}

// FreePort is a TCP port nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts a nats-server of the test's own with JetStream on port
// (a free one if 0), stopped when the test ends.
func Start(t testing.TB, port int) *Server {
	t.Helper()
	if port == 0 {
		port = FreePort(t)
	}
	return startServer(t, &Server{Port: port, dir: t.TempDir()})
}

// StartWithUser is Start for a server that accepts user with pass only;
// its URL carries them.
func StartWithUser(t testing.TB, user, pass string) *Server {
	t.Helper()
	return startServer(t, &Server{Port: FreePort(t), dir: t.TempDir(), user: user, pass: pass})
}

func startServer(t testing.TB, s *Server) *Server {
	t.Helper()
	url, err := s.start()
	if err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	s.URL = url
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() (string, error) {
	var extra []string
	if s.user != "" {
		extra = []string{"--user", s.user, "--pass", s.pass}
	}
	return start(s.dir, s.Port, &s.cmd, &s.sd, extra...)
}

// Restart stops the server and starts it again on its port, with the
// streams it stored.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if _, err := s.start(); err != nil {
		t.Fatalf("restart nats-server: %v", err)
	}
}

// Stop stops the server and waits for it to end.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// start runs nats-server -js on port (free if 0), storing under dir, with
// the extra arguments (--user and --pass, if any, go into the URL), and
// waits until it answers.
func start(dir string, port int, keep **exec.Cmd, store *string, extra ...string) (string, error) {
	bin, err := exec.LookPath(serverBin)
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/nats-server"); statErr != nil {
			return "", fmt.Errorf("nats-server not found: %w", err)
		}
		bin = "/usr/sbin/nats-server"
	}
	if port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	var sd string
	if store != nil && *store != "" {
		sd = *store
	} else {
		var err error
		if sd, err = os.MkdirTemp(dir, "nats-js-"); err != nil {
			return "", err
		}
		if store != nil {
			*store = sd
		}
	}
	cmd := exec.Command(bin, append([]string{"-js", "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-sd", sd}, extra...)...)
	// The server ends with the test binary, however that ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", bin, err)
	}
	if keep != nil {
		*keep = cmd
	}
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	if len(extra) == 4 && extra[0] == "--user" && extra[2] == "--pass" {
		url = fmt.Sprintf("nats://%s:%s@127.0.0.1:%d", extra[1], extra[3], port)
	}
	for deadline := time.Now().Add(startWait); time.Now().Before(deadline); time.Sleep(reachRetry) {
		if jetStreamAnswers(url) {
			return url, nil
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return "", fmt.Errorf("%s on port %d did not answer within %s", bin, port, startWait)
}

// jetStreamAnswers reports whether a server at url answers with JetStream.
func jetStreamAnswers(url string) bool {
	nc, err := nats.Connect(url, nats.Timeout(time.Second))
	if err != nil {
		return false
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err == nil
}

// Names is a stream name and subject prefix of the test's own.
type Names struct {
	Stream, Prefix string
}

// Unique names a stream and prefix for the test, and deletes that stream
// from the server at url when the test ends.
func Unique(t testing.TB, url string) Names {
	t.Helper()
	tag := strings.ReplaceAll(uuid.NewString()[:13], "-", "")
	n := Names{Stream: "TEST_" + strings.ToUpper(tag), Prefix: "test." + tag}
	t.Cleanup(func() {
		nc, err := nats.Connect(url, nats.Timeout(time.Second))
		if err != nil {
			return // the server the test stopped took the stream with it
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, n.Stream)
	})
	return n
}

// JetStream connects the test to url, closed when it ends.
func JetStream(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}
