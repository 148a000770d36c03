package main

import (
	"io"
	"strings"
	"sync"
	"syscall"
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
	buf := newLogBuffer(out, io.Discard)
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
	buf := newLogBuffer(out, io.Discard)
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

// brokenPipe fails every write while broken is set.
type brokenPipe struct {
	lockedBuilder
	broken bool
}

func (p *brokenPipe) Write(b []byte) (int, error) {
	if p.broken {
		return 0, syscall.EPIPE
	}
	return p.lockedBuilder.Write(b)
}

func TestLogBufferDropsAndCountsWhileTheOutputFails(t *testing.T) {
	// Given a log buffer whose output fails
	out, stderr := &brokenPipe{broken: true}, &lockedBuilder{}
	buf := newLogBuffer(out, stderr)
	defer buf.Close()
	log := zerolog.New(buf)

	// When lines are logged and written out
	log.Info().Msg("one")
	log.Info().Msg("two")
	log.Warn().Msg("three") // writes at once
	log.Warn().Msg("four")

	// Then they are dropped and counted, and the failure told once
	if n := buf.Dropped(); n != 4 {
		t.Errorf("Dropped = %d, want 4", n)
	}
	if n := strings.Count(stderr.String(), "writing the log failed"); n != 1 {
		t.Errorf("stderr told the failure %d times:\n%s", n, stderr.String())
	}

	// And once the output works again, so does the log
	buf.mu.Lock()
	out.broken = false
	buf.mu.Unlock()
	log.Warn().Msg("five")
	if got := out.String(); !strings.Contains(got, "five") || strings.Contains(got, "four") {
		t.Errorf("written after recovery: %q", got)
	}
}
