package httpapi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
)

func isEventStream(resp *http.Response) bool {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt == "text/event-stream"
}

// checkEventStream checks the status and headers of a live feed's answer
// against the spec; sseStream checks what it streams.
func (st *specTransport) checkEventStream(req *http.Request, input *openapi3filter.RequestValidationInput, routeErr error, resp *http.Response) {
	what := req.Method + " " + req.URL.RequestURI()
	if routeErr != nil {
		st.t.Errorf("%s → %d: an event stream for a path the spec does not have", what, resp.StatusCode)
		return
	}
	if err := openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: true},
	}); err != nil {
		st.t.Errorf("%s → %d: response does not match the spec: %v", what, resp.StatusCode, err)
	}
	if err := checkDeclared(input, resp, declaredHeaders...); err != nil {
		st.t.Errorf("%s → %d: %v", what, resp.StatusCode, err)
	}
	spec := input.Route.Operation.Responses.Status(resp.StatusCode)
	if spec == nil || spec.Value.Content.Get("text/event-stream") == nil {
		st.t.Errorf("%s → %d: the spec has no text/event-stream answer", what, resp.StatusCode)
	}
}

// validateFeedEvent checks one live-feed message's data against the
// spec's FeedEvent and decodes it strictly.
func validateFeedEvent(t *testing.T, data string) feedEventJSON {
	t.Helper()
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("data is not JSON: %v: %s", err, data)
	}
	if err := doc.Components.Schemas["FeedEvent"].Value.VisitJSON(v); err != nil {
		t.Errorf("data does not match the spec's FeedEvent: %v\n%s", err, data)
	}
	var e feedEventJSON
	decodeStrict(t, []byte(data), &e)
	return e
}

// sseMessage is one block of an event stream: a message, a comment or a
// retry hint.
type sseMessage struct {
	ID, Event, Data, Retry, Comment string
}

// sseStream reads a live feed as an EventSource would, line by line, in
// the background.
type sseStream struct {
	t    *testing.T
	resp *http.Response
	msgs chan sseMessage
	err  chan error // the reader's end: nil at EOF
}

// openStream requests the live feed and returns its stream, which is
// closed when the test ends. headers come in name, value pairs.
func (a *testAPI) openStream(query string, headers ...string) *sseStream {
	a.t.Helper()
	req, err := http.NewRequest("GET", a.url+"/v1/events"+query, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || !isEventStream(resp) {
		a.t.Fatalf("live feed: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sseStream{t: a.t, resp: resp, msgs: make(chan sseMessage, 1000), err: make(chan error, 1)}
	go s.read()
	return s
}

func (s *sseStream) read() {
	sc := bufio.NewScanner(s.resp.Body)
	var m sseMessage
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			s.msgs <- m
			m = sseMessage{}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			m.Comment = value
		case "id":
			m.ID = value
		case "event":
			m.Event = value
		case "data":
			if m.Data != "" {
				m.Data += "\n"
			}
			m.Data += value
		case "retry":
			m.Retry = value
		default:
			s.err <- fmt.Errorf("unknown field in line %q", line)
			close(s.msgs)
			return
		}
	}
	s.err <- sc.Err()
	close(s.msgs)
}

// next returns the next block, or fails the test if none comes in time.
func (s *sseStream) next(within time.Duration) sseMessage {
	s.t.Helper()
	select {
	case m, ok := <-s.msgs:
		if !ok {
			s.t.Fatalf("the stream ended: %v", <-s.err)
		}
		return m
	case <-time.After(within):
		s.t.Fatalf("nothing streamed within %s", within)
		return sseMessage{}
	}
}

// nextEvent skips comments and returns the next event, checked against
// the spec: its id a cursor, its name the event's type.
func (s *sseStream) nextEvent(within time.Duration) (sseMessage, feedEventJSON) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		m := s.next(time.Until(deadline))
		if m.Comment != "" || m.Retry != "" {
			continue
		}
		e := validateFeedEvent(s.t, m.Data)
		if _, legacy, ok := decodeFeedCursor(testCursors, m.ID); !ok || legacy || m.Event != e.Type {
			s.t.Fatalf("message id %q, event %q for an event of type %s", m.ID, m.Event, e.Type)
		}
		return m, e
	}
}

// ended waits for the stream to end cleanly.
func (s *sseStream) ended(within time.Duration) {
	s.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case _, ok := <-s.msgs:
			if !ok {
				if err := <-s.err; err != nil {
					s.t.Fatalf("the stream broke: %v", err)
				}
				return
			}
		case <-deadline:
			s.t.Fatalf("the stream did not end within %s", within)
		}
	}
}
