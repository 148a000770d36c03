package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// phase is how long a measurement warms up and then counts.
type phase struct {
	Warmup time.Duration
	Window time.Duration
}

// worker is one client of a measurement: op does one operation and says
// whether it failed; close releases what the worker holds.
type worker struct {
	op    func() error
	close func()
}

// sample is one measurement's outcome.
type sample struct {
	Ops      int           `json:"ops"`
	OpsPerS  float64       `json:"ops_per_s"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
	Errors   int           `json:"errors"`
	FirstErr string        `json:"first_error,omitempty"`
	// CPU per counted operation, within the window: the server's, the
	// database's and the load's own.
	ServerCPU   time.Duration `json:"server_cpu_per_op_ns"`
	DatabaseCPU time.Duration `json:"database_cpu_per_op_ns"`
	BenchCPU    time.Duration `json:"bench_cpu_per_op_ns"`
	// NATSCPU is the NATS server's, counted for the relay's scenarios.
	NATSCPU time.Duration `json:"nats_cpu_per_op_ns,omitempty"`
	// Relay is the relay's lag, for the scenario with the relay on.
	Relay *relayRound `json:"relay,omitempty"`
}

// measure runs clients workers in a closed loop: each starts its next
// operation when the last one ends, as pgbench and wrk do. Operations that
// start after the warm-up and end within the window are counted, and their
// latencies give the percentiles. Errors are counted whenever they happen.
func measure(ctx context.Context, clients int, p phase, ps procs, newWorker func(i int) (worker, error)) (sample, error) {
	workers := make([]worker, clients)
	for i := range workers {
		w, err := newWorker(i)
		if err != nil {
			for _, w := range workers[:i] {
				w.close()
			}
			return sample{}, fmt.Errorf("client %d: %w", i, err)
		}
		workers[i] = w
	}
	defer func() {
		for _, w := range workers {
			w.close()
		}
	}()

	start := time.Now()
	from, until := start.Add(p.Warmup), start.Add(p.Warmup+p.Window)
	type result struct {
		lat      []time.Duration
		errors   int
		firstErr error
	}
	results := make([]result, clients)
	var (
		wg  sync.WaitGroup
		cpu cpuUse
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(time.Until(from))
		before := readCPU(ps)
		time.Sleep(time.Until(until))
		cpu = readCPU(ps).sub(before)
	}()
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			r.lat = make([]time.Duration, 0, 1<<14)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(until) {
					return
				}
				err := w.op()
				t1 := time.Now()
				if err != nil {
					r.errors++
					if r.firstErr == nil {
						r.firstErr = err
					}
					continue
				}
				if !t0.Before(from) && !t1.After(until) {
					r.lat = append(r.lat, t1.Sub(t0))
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return sample{}, err
	}

	var s sample
	var all []time.Duration
	for _, r := range results {
		all = append(all, r.lat...)
		s.Errors += r.errors
		if r.firstErr != nil && s.FirstErr == "" {
			s.FirstErr = r.firstErr.Error()
		}
	}
	slices.Sort(all)
	s.Ops = len(all)
	s.OpsPerS = float64(len(all)) / p.Window.Seconds()
	s.P50 = percentile(all, 0.50)
	s.P99 = percentile(all, 0.99)
	if s.Ops > 0 {
		n := time.Duration(s.Ops)
		s.ServerCPU, s.DatabaseCPU, s.BenchCPU, s.NATSCPU = cpu.Server/n, cpu.Database/n, cpu.Bench/n, cpu.NATS/n
	}
	return s, nil
}

// percentile of sorted latencies, nearest rank; 0 for none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
