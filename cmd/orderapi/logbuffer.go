package main

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// logFlushEvery bounds how long an info line waits in the log buffer.
const logFlushEvery = 50 * time.Millisecond

// logBufferSize is how much the buffer holds before it writes at once.
const logBufferSize = 64 << 10

// logBuffer gathers the service's log lines and writes them in batches.
// Every request logs a line, and writing each on its own cost a system
// call per request: a twentieth of a read's CPU. Lines wait at most
// logFlushEvery; warnings and errors are written at once, with whatever
// waits before them, so that the lines that explain a failure are out
// before anything else can go wrong. Close writes what is left.
//
// A failed write (stdout a pipe whose reader is gone, a full disk) drops
// its batch and counts the lines, and the service serves on: its log
// matters less than its answers. The first failure is told once on
// stderr; later batches are tried again, so the log resumes if the output
// recovers.
type logBuffer struct {
	mu      sync.Mutex
	out     io.Writer
	stderr  io.Writer
	buf     []byte
	failing bool
	dropped atomic.Uint64
	stop    chan struct{}
	done    chan struct{}
}

func newLogBuffer(out, stderr io.Writer) *logBuffer {
	b := &logBuffer{out: out, stderr: stderr, buf: make([]byte, 0, logBufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushEvery(logFlushEvery)
	return b
}

// Dropped is how many lines could not be written.
func (b *logBuffer) Dropped() uint64 { return b.dropped.Load() }

// Write keeps a line; zerolog writes one event per call.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > logBufferSize {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// WriteLevel is zerolog's LevelWriter: warnings and above go out at once.
func (b *logBuffer) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	n, err := b.Write(p)
	if err == nil && l >= zerolog.WarnLevel && l != zerolog.NoLevel {
		err = b.Flush()
	}
	return n, err
}

func (b *logBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

// flushLocked writes the batch, or drops and counts it. It returns no
// error: zerolog would report each on stderr, once per line.
func (b *logBuffer) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.out.Write(b.buf)
	if err != nil {
		b.dropped.Add(uint64(bytes.Count(b.buf, []byte{'\n'})))
		if !b.failing {
			fmt.Fprintf(b.stderr, "orderapi: writing the log failed (%v): dropping log lines, counted by orderapi_log_lines_dropped_total\n", err)
		}
	}
	b.failing = err != nil
	b.buf = b.buf[:0]
	return nil
}

func (b *logBuffer) flushEvery(d time.Duration) {
	defer close(b.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			_ = b.Flush()
		}
	}
}

// Close stops the periodic flush and writes what is left.
func (b *logBuffer) Close() error {
	close(b.stop)
	<-b.done
	return b.Flush()
}
