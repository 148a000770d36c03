package livefeed

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestLiveFeedEndIsWritableAfterShutdownCutsAWrite: shutdown that comes
// as a write finishes pulls that write's deadline in; the stream's end is
// still given time to be written, so the client sees the stream end
// rather than break.
func TestLiveFeedEndIsWritableAfterShutdownCutsAWrite(t *testing.T) {
	t.Parallel()
	// Given a stream in the middle of a write
	w := &deadlineRecorder{ResponseWriter: httptest.NewRecorder()}
	out := &sseWriter{w: w, rc: http.NewResponseController(w)}
	closing := make(chan struct{})
	_, stop := out.endWhen(closing, time.Time{})
	if err := out.begin(); err != nil {
		t.Fatal(err)
	}

	// When shutdown begins and pulls the write's deadline in, and then
	// the write finishes and the stream ends
	close(closing)
	if !eventually(func() bool { return !w.last().After(time.Now()) }) {
		t.Fatalf("write deadline %s not pulled in", w.last())
	}
	out.end()
	stop()

	// Then the response ends under a deadline still ahead, and soon
	if d := time.Until(w.last()); d <= 0 || d > sseLastWriteGrace {
		t.Errorf("the stream's end has %s to be written, want up to %s", d, sseLastWriteGrace)
	}
}

// deadlineRecorder is a ResponseWriter that keeps the write deadlines set
// on it.
type deadlineRecorder struct {
	http.ResponseWriter
	mu        sync.Mutex
	deadlines []time.Time
}

func (d *deadlineRecorder) SetWriteDeadline(t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.deadlines = append(d.deadlines, t)
	return nil
}

// last is the deadline set last, zero if none was.
func (d *deadlineRecorder) last() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.deadlines) == 0 {
		return time.Time{}
	}
	return d.deadlines[len(d.deadlines)-1]
}

// eventually retries cond for a while.
func eventually(cond func() bool) bool {
	for range 100 {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
