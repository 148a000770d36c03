package main

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// lockedBuilder is a strings.Builder safe for the buffer's flusher.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogBufferBatchesInfoAndFlushesWarnings(t *testing.T) {
	// Given a logger writing through a log buffer
	out := &lockedBuilder{}
	buf := newLogBuffer(out)
	log := zerolog.New(buf)

	// When an info line is logged, it waits, then is written within the
	// flush interval
	log.Info().Msg("first")
	deadline := time.Now().Add(10 * logFlushEvery)
	for !strings.Contains(out.String(), "first") {
		if time.Now().After(deadline) {
			t.Fatal("an info line was not written within ten flush intervals")
		}
		time.Sleep(logFlushEvery / 5)
	}

	// When a warning follows an info line, both are written at once, in
	// order
	log.Info().Msg("second")
	log.Warn().Msg("trouble")
	if got := out.String(); !strings.Contains(got, "trouble") || strings.Index(got, "second") > strings.Index(got, "trouble") {
		t.Fatalf("a warning was not written at once after what preceded it:\n%s", got)
	}

	// When the buffer closes, what is left is written
	log.Info().Msg("last")
	if err := buf.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "last") {
		t.Fatal("Close did not write the last line")
	}
}

func TestLogBufferWritesWhenFull(t *testing.T) {
	// Given a buffer, when more than its size is logged at info
	out := &lockedBuilder{}
	buf := newLogBuffer(out)
	defer buf.Close()
	line := strings.Repeat("x", 1000) + "\n"
	for range logBufferSize/len(line) + 1 {
		if _, err := buf.WriteLevel(zerolog.InfoLevel, []byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	// Then the full buffer was written without waiting for the interval
	if n := len(out.String()); n < logBufferSize-len(line) {
		t.Fatalf("%d bytes written, want at least %d", n, logBufferSize-len(line))
	}
}
