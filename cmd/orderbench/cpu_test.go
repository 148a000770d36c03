package main

import (
	"testing"
	"time"
)

// TestConsistentReadRescansWhenAChildIsReapedMidScan: a backend with
// 400ms of CPU ends while /proc is being scanned, after its postmaster
// was read and before its own entry was; the reading must neither lose
// nor double its 400ms.
func TestConsistentReadRescansWhenAChildIsReapedMidScan(t *testing.T) {
	// Given a postmaster that has reaped 1s of children and two live
	// backends of 100ms and 400ms; the second ends during the first scan
	reaped := time.Second
	liveBackends := []time.Duration{100 * time.Millisecond, 400 * time.Millisecond}
	scans := 0
	live := func() time.Duration {
		scans++
		var sum time.Duration
		for i, d := range liveBackends {
			if scans == 1 && i == 1 {
				reaped += d
				liveBackends = liveBackends[:1]
				break
			}
			sum += d
		}
		return sum
	}

	// When the cluster's CPU is read
	got := consistentRead(func() time.Duration { return reaped }, live)

	// Then every backend counts once, from a second scan
	if want := 1500 * time.Millisecond; got != want || scans != 2 {
		t.Errorf("read %v in %d scans, want %v in 2", got, scans, want)
	}
}

// TestConsistentReadStopsOnABusyCluster: on a cluster whose backends end
// during every scan, the reading still returns.
func TestConsistentReadStopsOnABusyCluster(t *testing.T) {
	// Given a postmaster that reaps a child during every scan
	var reaped time.Duration
	live := func() time.Duration { reaped += time.Millisecond; return 0 }

	// When the cluster's CPU is read
	got := consistentRead(func() time.Duration { return reaped }, live)

	// Then it gives up after a bounded number of scans with the last one
	if got != reaped || reaped != 10*time.Millisecond {
		t.Errorf("read %v after %v of reaping", got, reaped)
	}
}
