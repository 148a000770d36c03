package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/api"
	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// TestOversizedHeaders: the service as `orderapi serve` runs it answers
// headers over its MaxHeaderBytes with net/http's 431, before any handler
// runs; headers well within it are served as usual.
func TestOversizedHeaders(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, pgtest.NewURL(t))
	get := func(headerBytes int) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Padding", strings.Repeat("a", headerBytes))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := get(defaultServerLimits.MaxHeaderBytes / 2); resp.StatusCode != http.StatusOK {
		t.Errorf("headers of half the limit: %d, want 200", resp.StatusCode)
	}
	if resp := get(2 * defaultServerLimits.MaxHeaderBytes); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("headers of twice the limit: %d, want 431", resp.StatusCode)
	}
}

// TestWhatNetHTTPAnswersItself: a request Go's HTTP server cannot take
// is answered by it, before any handler runs, in plain text rather than
// as a problem, and the connection closed; the README and the spec list
// each such answer (TestDocumentedServerLimits). What it does take, however
// odd, reaches the service and is answered with a problem.
func TestWhatNetHTTPAnswersItself(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, pgtest.NewURL(t))
	const host = "Host: orderapi\r\n"
	tests := []struct {
		name, request string
		// status is the answer's; problem says whether it is a problem
		// document (from the service) or net/http's plain text.
		status  int
		problem bool
	}{
		{"a bad escape in the path", "GET /v1/orders/%zz HTTP/1.1\r\n" + host, 400, false},
		{"a control character in the path", "GET /v1/orders/a\x01b HTTP/1.1\r\n" + host, 400, false},
		{"a control character in the query", "GET /healthz?a=\x7f HTTP/1.1\r\n" + host, 400, false},
		{"a space in the target", "GET /v1/orders/a b HTTP/1.1\r\n" + host, 400, false},
		{"a NUL in a header's value", "GET /healthz HTTP/1.1\r\n" + host + "Authorization: Bearer a\x00b\r\n", 400, false},
		{"an invalid header name", "GET /healthz HTTP/1.1\r\n" + host + "X(y): 1\r\n", 400, false},
		{"no Host", "GET /healthz HTTP/1.1\r\n", 400, false},
		{"two Hosts", "GET /healthz HTTP/1.1\r\n" + host + host, 400, false},
		{"a malformed Host", "GET /healthz HTTP/1.1\r\nHost: a b\r\n", 400, false},
		{"a bad Content-Length", "POST /v1/orders HTTP/1.1\r\n" + host + "Content-Length: x\r\n", 400, false},
		{"an unknown Transfer-Encoding", "POST /v1/orders HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n", 501, false},
		{"HTTP/2.0 in the request line", "GET /healthz HTTP/2.0\r\n" + host, 505, false},
		{"an Expect other than 100-continue", "POST /v1/orders HTTP/1.1\r\n" + host + "Expect: something\r\nContent-Length: 2\r\n", 417, false},
		// What net/http takes reaches the service.
		{"an escaped NUL in the path", "GET /v1/orders/%00 HTTP/1.1\r\n" + host, 401, true},
		{"a bad escape in the query", "GET /healthz?a=%zz HTTP/1.1\r\n" + host, 400, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Given a connection on which the request is sent whole
			conn := sendRaw(t, addr, tt.request+"Connection: close\r\n\r\n")
			// When it is answered
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// Then it is the one documented, from net/http or the service
			ct := resp.Header.Get("Content-Type")
			fromService := ct == "application/problem+json"
			if resp.StatusCode != tt.status || fromService != tt.problem {
				t.Errorf("answered %d %q: %s; want %d, a problem: %v", resp.StatusCode, ct, body, tt.status, tt.problem)
			}
		})
	}
}

// sendRaw writes data on a new connection to addr, which the test
// closes, and gives its reads 8 s.
func sendRaw(t *testing.T, addr, data string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := conn.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(8 * time.Second))
	return conn
}

// shortLimits are the service's limits scaled down, so that a slow client
// is cut off in a test's time.
var shortLimits = serverLimits{
	ReadHeaderTimeout: 300 * time.Millisecond,
	ReadTimeout:       time.Second,
	WriteTimeout:      5 * time.Second,
	IdleTimeout:       5 * time.Second,
	MaxHeaderBytes:    defaultServerLimits.MaxHeaderBytes,
}

// slowServer serves the real API with shortLimits on a free port.
func slowServer(t *testing.T) string {
	t.Helper()
	pool := pgtest.New(t)
	store := eventstore.New(pool, eventstore.Config{})
	svc, err := app.NewService(store, store, app.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cursors, _, err := cursorSigner(context.Background(), pool, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.NewServer(svc, zerolog.Nop(), httpapi.Config{Ready: func(ctx context.Context) error { return pool.Ping(ctx) }, Cursors: cursors,
		Auth: staffAuth{}, Fingerprints: personaldata.UnkeyedRequestFingerprints()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(h, shortLimits)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// staffToken is the one token staffAuth accepts.
const staffToken = "limits-test-staff"

// staffAuth stands for the token verifier of slowServer: these tests are
// about slow clients, not about tokens.
type staffAuth struct{}

func (staffAuth) Authenticate(_ context.Context, token string) (app.Principal, error) {
	if token != staffToken {
		return app.Principal{}, app.InvalidToken("not the test's token")
	}
	return app.Principal{Subject: "staff:limits", Roles: app.RolesOf(app.RoleStaff)}, nil
}

// trickle writes data one byte every interval until it is written or the
// connection fails; it reports how many bytes went out.
func trickle(conn net.Conn, data string, every time.Duration) <-chan int {
	sent := make(chan int, 1)
	go func() {
		n := 0
		for ; n < len(data); n++ {
			if _, err := conn.Write([]byte{data[n]}); err != nil {
				break
			}
			time.Sleep(every)
		}
		sent <- n
	}()
	return sent
}

// TestSlowHeadersAreCutOff: a client that sends its headers byte by byte
// (slowloris) is answered net/http's 400 and has its connection closed
// once ReadHeaderTimeout passes, long before it would have finished.
func TestSlowHeadersAreCutOff(t *testing.T) {
	t.Parallel()
	conn, err := net.Dial("tcp", slowServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	request := "GET /healthz HTTP/1.1\r\nHost: orderapi\r\nX-Slow: " + strings.Repeat("a", 200) + "\r\n\r\n"
	start := time.Now()
	sent := trickle(conn, request, 50*time.Millisecond) // 10 s for the whole request
	_ = conn.SetReadDeadline(time.Now().Add(8 * time.Second))
	got, err := io.ReadAll(conn)
	elapsed := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection was still open after %s", elapsed)
	}
	// net/http answers a plain 400 (not a problem: no handler has run)
	// and closes the connection.
	if len(got) != 0 && !strings.HasPrefix(string(got), "HTTP/1.1 400 ") {
		t.Errorf("a request cut off in its headers was answered %q, want nothing or a 400", got)
	}
	if n := <-sent; n == len(request) {
		t.Errorf("the whole request went out (%s) before the connection was closed", elapsed)
	}
	if elapsed > 5*time.Second {
		t.Errorf("closed after %s; ReadHeaderTimeout is %s", elapsed, shortLimits.ReadHeaderTimeout)
	}
}

// TestStalledHeadersAreAnsweredAsDocumented: a client that stops sending
// within its headers has its connection closed once ReadHeaderTimeout
// passes, without a response; one that stops within its request line gets
// net/http's plain-text 400 first. The README and the spec say so.
func TestStalledHeadersAreAnsweredAsDocumented(t *testing.T) {
	t.Parallel()
	addr := slowServer(t)
	tests := []struct {
		name, sent, answer string
	}{
		{"nothing sent", "", ""},
		{"within the request line", "GET /heal", "HTTP/1.1 400 Bad Request\r\n"},
		{"within a header", "GET /healthz HTTP/1.1\r\nHost: orderapi\r\nX-Slow: aaa", ""},
		{"after a header", "GET /healthz HTTP/1.1\r\nHost: orderapi\r\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Given a connection on which part of a request is sent
			conn := sendRaw(t, addr, tt.sent)
			// When the client sends nothing more
			got, err := io.ReadAll(conn)
			// Then the server closes the connection, with the answer
			// documented
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				t.Fatal("the connection was still open after 8 s")
			}
			if !strings.HasPrefix(string(got), tt.answer) || tt.answer == "" && len(got) != 0 {
				t.Errorf("answered %q, want %q", got, tt.answer)
			}
		})
	}
}

// TestSlowBodyIsCutOff: a client whose headers arrive at once but whose
// body trickles is answered 408 request_timeout when ReadTimeout passes,
// and nothing is written.
func TestSlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	conn, err := net.Dial("tcp", slowServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"customer_id":"0190d6c8-6a4e-7b1c-9c53-2f1e5a8b9c0d","currency":"USD"}` + strings.Repeat(" ", 100)
	head := "POST /v1/orders HTTP/1.1\r\nHost: orderapi\r\nAuthorization: Bearer " + staffToken +
		"\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sent := trickle(conn, body, 50*time.Millisecond) // 8.5 s for the whole body
	_ = conn.SetReadDeadline(time.Now().Add(8 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer after %s: %v", time.Since(start), err)
	}
	defer resp.Body.Close()
	var p struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestTimeout || p.Status != 408 || p.Code != "request_timeout" ||
		resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("answer %d %s %+v, want a 408 request_timeout problem", resp.StatusCode, resp.Header.Get("Content-Type"), p)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("answered after %s; ReadTimeout is %s", elapsed, shortLimits.ReadTimeout)
	}
	_ = conn.Close()
	if n := <-sent; n == len(body) {
		t.Error("the whole body went out before the answer")
	}
}

// TestDocumentedServerLimits keeps the limits the spec and the README
// state for headers and slow clients equal to those the server runs with.
func TestDocumentedServerLimits(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	l := defaultServerLimits
	want := []string{
		fmt.Sprintf("%d KiB", l.MaxHeaderBytes>>10),
		fmt.Sprintf("within %d s", int(l.ReadHeaderTimeout.Seconds())),
		// What slow headers get (TestStalledHeadersAreAnsweredAsDocumented).
		"closed without a response",
		"request line still incomplete then",
		// What net/http answers itself (TestWhatNetHTTPAnswersItself).
		"`Transfer-Encoding`",
		"`Expect`",
		"501",
		"505",
		"417",
		"in the path",
		"header value holding",
		fmt.Sprintf("within %d s", int(l.ReadTimeout.Seconds())),
	}
	for name, doc := range map[string]string{"api/openapi.yaml": string(api.OpenAPI), "README.md": string(readme)} {
		for _, w := range want {
			if !strings.Contains(doc, w) {
				t.Errorf("%s does not say %q", name, w)
			}
		}
	}
}
