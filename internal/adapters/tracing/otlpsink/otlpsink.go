// Package otlpsink is an OTLP/HTTP traces endpoint in process, on a
// loopback port: it answers every export with success and counts the
// spans, keeping them too when asked. Tests read what the service
// exported; the benchmark gives the service a collector that costs it
// what a real one would, and nothing more.
package otlpsink

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Sink is a running endpoint.
type Sink struct {
	srv  *http.Server
	url  string
	keep bool

	mu       sync.Mutex
	exports  []Export
	requests int
	spans    int
}

// An Export is one request the sink took, as kept.
type Export struct {
	Path     string
	Header   http.Header
	Resource map[string]string
	Spans    []*tracepb.Span
}

// Start listens on a free loopback port. With keep, every export is kept
// for Exports; otherwise only counted.
func Start(keep bool) (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Sink{url: "http://" + ln.Addr().String(), keep: keep}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.export)}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// ForTest is a sink that keeps every export, closed when the test ends.
func ForTest(t testing.TB) *Sink {
	t.Helper()
	s, err := Start(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// URL is the sink's base URL: OTEL_EXPORTER_OTLP_ENDPOINT's value.
func (s *Sink) URL() string { return s.url }

// Close stops the sink.
func (s *Sink) Close() error { return s.srv.Close() }

// Counts are the exports and the spans taken so far.
func (s *Sink) Counts() (requests, spans int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.spans
}

// Exports are the exports kept so far (none without keep).
func (s *Sink) Exports() []Export {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Export(nil), s.exports...)
}

// Spans are the spans kept so far, of every export.
func (s *Sink) Spans() []*tracepb.Span {
	var spans []*tracepb.Span
	for _, e := range s.Exports() {
		spans = append(spans, e.Spans...)
	}
	return spans
}

func (s *Sink) export(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	req := &collectortrace.ExportTraceServiceRequest{}
	if err == nil && r.Method != http.MethodPost {
		err = errors.New("not a POST")
	}
	if err != nil || proto.Unmarshal(body, req) != nil {
		http.Error(w, "want an OTLP/HTTP protobuf export", http.StatusBadRequest)
		return
	}
	e := Export{Path: r.URL.Path, Header: r.Header.Clone(), Resource: map[string]string{}}
	for _, rs := range req.ResourceSpans {
		for _, a := range rs.GetResource().GetAttributes() {
			e.Resource[a.Key] = a.Value.GetStringValue()
		}
		for _, ss := range rs.ScopeSpans {
			e.Spans = append(e.Spans, ss.Spans...)
		}
	}
	s.mu.Lock()
	s.requests++
	s.spans += len(e.Spans)
	if s.keep {
		s.exports = append(s.exports, e)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}
