package main

import (
	"context"
	"fmt"
	"strings"
)

// worker is one of serve's background tasks.
type worker struct {
	name string
	run  func(context.Context) error
	// held is how many of the pool's connections it keeps while it runs.
	held int
}

// runner is a background task: Run works until ctx ends. Its error is
// only ever ctx's end: each retries every other failure itself.
type runner interface {
	Run(ctx context.Context) error
}

// runFunc is a function as a runner.
type runFunc func(context.Context) error

func (f runFunc) Run(ctx context.Context) error { return f(ctx) }

// newWorker is r under name; r tells how many connections it keeps, if
// any, by a HeldConns method.
func newWorker(name string, r runner) worker {
	w := worker{name: name, run: r.Run}
	if h, ok := r.(interface{ HeldConns() int }); ok {
		w.held = h.HeldConns()
	}
	return w
}

// poolFits refuses a pool that the workers would leave without a
// connection for requests: every request would then wait for one and
// answer 503, for as long as the service runs.
func poolFits(maxConns int32, workers []worker) error {
	need := 1 // requests, and the other workers' short queries
	var holders []string
	for _, w := range workers {
		if w.held > 0 {
			need += w.held
			holders = append(holders, fmt.Sprintf("%d for the %s", w.held, w.name))
		}
	}
	if int(maxConns) < need {
		return fmt.Errorf("DATABASE_URL's pool_max_conns=%d is too small: serve needs at least %d connections, %s (each kept for as long as the service runs) and 1 for requests",
			maxConns, need, strings.Join(holders, ", "))
	}
	return nil
}

// startAll starts every worker; the returned stop ends them, the last
// started first, and waits for each to return.
func startAll(ctx context.Context, workers []worker) (stop func()) {
	stops := make([]func(), len(workers))
	for i, w := range workers {
		stops[i] = background(ctx, w.run)
	}
	return func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
}

// background runs fn until ctx ends or the returned stop is called; stop
// waits for fn to return.
func background(ctx context.Context, fn func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = fn(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
