package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestEfficiencyIsTheFloorsDatabaseCPUOverTheRequestsPerRoundMedian(t *testing.T) {
	// Given three rounds of add item and get order at 32 clients, each
	// beside its floor measured in the same round
	µs := time.Microsecond
	res := newResults()
	for _, r := range []struct{ floorDB, server, db time.Duration }{
		{300 * µs, 200 * µs, 300 * µs}, // 0.6
		{240 * µs, 300 * µs, 300 * µs}, // 0.4
		{350 * µs, 200 * µs, 300 * µs}, // 0.7
	} {
		res.add(floorCommandName, 32, sample{Ops: 1, OpsPerS: 1, DatabaseCPU: r.floorDB, ServerCPU: 0})
		res.add(addItemName, 32, sample{Ops: 1, OpsPerS: 1, ServerCPU: r.server, DatabaseCPU: r.db})
	}
	for _, r := range []struct{ floorDB, server, db time.Duration }{
		{40 * µs, 60 * µs, 40 * µs}, // 0.4
		{45 * µs, 50 * µs, 50 * µs}, // 0.45
	} {
		res.add(floorReadName, 32, sample{Ops: 1, OpsPerS: 1, DatabaseCPU: r.floorDB})
		res.add(getOrderName, 32, sample{Ops: 1, OpsPerS: 1, ServerCPU: r.server, DatabaseCPU: r.db})
	}

	// When the report is built
	rep := buildReport(config{}, machine{}, res, nil, nil, 0, 0, time.Second)

	// Then each scenario's efficiency is the median of its rounds' (the
	// mean of the middle two for an even count), the floors have none
	want := map[string]float64{addItemName: 0.6, getOrderName: 0.425, floorCommandName: 0, floorReadName: 0}
	for _, r := range rep.Rows {
		if math.Abs(r.Efficiency-want[r.Scenario]) > 1e-9 {
			t.Errorf("%s: efficiency %v, want %v", r.Scenario, r.Efficiency, want[r.Scenario])
		}
	}
	// and the goals say add item met 0.6 and get order missed 0.45
	met := map[string]bool{}
	for _, g := range rep.Goals {
		if strings.Contains(g.Name, "efficiency") {
			met[g.Name] = g.Met
		}
	}
	wantMet := map[string]bool{
		"add item, 32 clients, efficiency vs floor-command": true,
		"get order, 32 clients, efficiency vs floor-read":   false,
	}
	if len(met) != len(wantMet) {
		t.Errorf("efficiency goals %v, want %v", met, wantMet)
	}
	for name, m := range wantMet {
		if got, ok := met[name]; !ok || got != m {
			t.Errorf("goal %q: met %v (present %v), want %v", name, got, ok, m)
		}
	}

	// and the table and the JSON show it
	var out bytes.Buffer
	rep.print(&out)
	if !strings.Contains(out.String(), "efficiency") || !strings.Contains(out.String(), "0.60") {
		t.Errorf("printed table lacks the efficiency:\n%s", out.String())
	}
	path := filepath.Join(t.TempDir(), "results.json")
	if err := rep.write(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Results []struct {
			Scenario   string  `json:"scenario"`
			Efficiency float64 `json:"efficiency"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for _, r := range back.Results {
		if math.Abs(r.Efficiency-want[r.Scenario]) > 1e-9 {
			t.Errorf("JSON %s: efficiency %v, want %v", r.Scenario, r.Efficiency, want[r.Scenario])
		}
	}
}

func TestEfficiencyLeavesOutRoundsWithoutCPU(t *testing.T) {
	// Given a round whose CPU could not be read (PostgreSQL elsewhere)
	res := newResults()
	res.add(floorCommandName, 32, sample{Ops: 1, OpsPerS: 1})
	res.add(addItemName, 32, sample{Ops: 1, OpsPerS: 1, ServerCPU: time.Millisecond})

	// When the report is built
	rep := buildReport(config{}, machine{}, res, nil, nil, 0, 0, time.Second)

	// Then there is no efficiency, and no goal claims one
	for _, r := range rep.Rows {
		if r.Efficiency != 0 {
			t.Errorf("%s: efficiency %v from no CPU", r.Scenario, r.Efficiency)
		}
	}
	for _, g := range rep.Goals {
		if strings.Contains(g.Name, "efficiency") {
			t.Errorf("goal %+v without CPU figures", g)
		}
	}
}

func TestPgbenchLatenciesCountTheWindowOnly(t *testing.T) {
	// Given pgbench's logs of two threads: client, transaction, latency
	// (µs), script, end (s, µs)
	dir := t.TempDir()
	from := time.Unix(1_700_000_010, 0)
	until := from.Add(2 * time.Second)
	logs := map[string]string{
		"log.100": "0 1 1500 0 1700000009 999000\n" + // started and ended before
			"0 2 2000 0 1700000010 1000\n" + // started before the window
			"0 3 3000 0 1700000010 500000\n", // within
		"log.100.1": "1 1 4000 0 1700000011 0\n" + // within
			"1 2 failed 0 1700000011 10\n" + // failed: no latency
			"1 3 5000 0 1700000012 1000\n", // ended after
	}
	for name, text := range logs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// When its latencies are read for the window
	lat, err := pgbenchLatencies(dir, from, until)

	// Then only the transactions that started and ended within count
	if err != nil {
		t.Fatal(err)
	}
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	if len(lat) != 2 || sum != 7*time.Millisecond {
		t.Errorf("latencies %v, want 3ms and 4ms", lat)
	}
}

func TestReadStatFindsTheParent(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("no /proc: CPU is not counted either")
	}
	// Given this process, when its /proc stat is read
	st, ok := readStat(os.Getpid())
	if !ok {
		t.Fatal("no stat read")
	}

	// Then it names its parent
	if st.ppid != os.Getppid() || st.comm == "" {
		t.Errorf("stat %+v, want ppid %d", st, os.Getppid())
	}
}

func TestPipelinedScriptIsTheCommandInOnePipeline(t *testing.T) {
	// Given the floor-command script, when the pipelined one is made of it
	plain, err := pgbenchScript[floorCommandName]()
	if err != nil {
		t.Fatal(err)
	}
	piped, err := pgbenchScript[floorPipelinedName]()
	if err != nil {
		t.Fatal(err)
	}

	// Then it is the same transaction between \startpipeline and \endpipeline
	want := strings.Replace(strings.Replace(plain, "\nBEGIN;\n", "\n\\startpipeline\nBEGIN;\n", 1), "\nCOMMIT;\n", "\nCOMMIT;\n\\endpipeline\n", 1)
	if piped != want || !strings.Contains(piped, "\\startpipeline\nBEGIN;") || !strings.HasSuffix(piped, "COMMIT;\n\\endpipeline\n") {
		t.Errorf("pipelined script:\n%s", piped)
	}
}
