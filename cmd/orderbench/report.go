package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// results collects every measurement, per scenario and concurrency, in
// round order.
type results struct {
	by    map[string][]sample
	order []string
}

func newResults() *results { return &results{by: make(map[string][]sample)} }

func resultKey(name string, clients int) string { return fmt.Sprintf("%s@%d", name, clients) }

func (r *results) add(name string, clients int, s sample) {
	k := resultKey(name, clients)
	if _, ok := r.by[k]; !ok {
		r.order = append(r.order, k)
	}
	r.by[k] = append(r.by[k], s)
}

// last is the latest measurement of a scenario; zero if none.
func (r *results) last(name string, clients int) sample {
	ss := r.by[resultKey(name, clients)]
	if len(ss) == 0 {
		return sample{}
	}
	return ss[len(ss)-1]
}

// row is one scenario at one concurrency: the median of its rounds and,
// for an HTTP scenario, the median of its per-round ratios to its floor.
type row struct {
	Scenario string   `json:"scenario"`
	Clients  int      `json:"clients"`
	Rounds   []sample `json:"rounds"`
	Median   sample   `json:"median"`
	Floor    string   `json:"floor,omitempty"`
	// Ratio is ops/s over the floor's ops/s in the same round; P99Ratio
	// is p99 over the floor's p99.
	Ratio    float64 `json:"ratio,omitempty"`
	P99Ratio float64 `json:"p99_ratio,omitempty"`
	// PipelinedRatio compares a command with the pipelined floor.
	PipelinedRatio float64 `json:"ratio_to_pipelined,omitempty"`
	// Efficiency is the floor's PostgreSQL CPU per transaction over the
	// server's and PostgreSQL's CPU per request, in the same round; the
	// median over the rounds. Unlike the ratio of throughputs, it does
	// not depend on who else uses the machine's cores.
	Efficiency float64 `json:"efficiency,omitempty"`
}

type goal struct {
	Name     string  `json:"name"`
	Target   string  `json:"target"`
	Measured float64 `json:"measured"`
	Met      bool    `json:"met"`
}

type report struct {
	Machine     machine            `json:"machine"`
	Config      config             `json:"config"`
	Rows        []row              `json:"results"`
	LongStreams []longStreamResult `json:"long_streams"`
	Goals       []goal             `json:"goals"`
	Errors      int                `json:"errors"`
	LostWrites  int                `json:"lost_writes"`
	// LateCreates counts orders the add-item clients had to create within
	// a measurement because their pool ran out.
	LateCreates int64         `json:"late_creates"`
	Took        time.Duration `json:"took_ns"`
	// Stream is the relay's stream against the feed at the end, with
	// BENCH_NATS_URL set.
	Stream *streamCheck `json:"relay_stream,omitempty"`
	// Traces is what the tracing server exported, with BENCH_OTEL=1.
	Traces *traceCount `json:"traces,omitempty"`
}

func buildReport(cfg config, m machine, res *results, long []longStreamResult, stream *streamCheck, lost int, lateCreates int64, took time.Duration) report {
	rep := report{Machine: m, Config: cfg, LongStreams: long, Stream: stream, LostWrites: lost, LateCreates: lateCreates, Took: took}
	for _, k := range res.order {
		name, clients := splitKey(k)
		rounds := res.by[k]
		r := row{Scenario: name, Clients: clients, Rounds: rounds, Median: medianSample(rounds)}
		for _, s := range rounds {
			rep.Errors += s.Errors
		}
		if floor, ok := floorOf[name]; ok {
			r.Floor = floor
			fl := res.by[resultKey(floor, clients)]
			r.Ratio = medianRatio(rounds, fl, func(s sample) float64 { return s.OpsPerS })
			r.P99Ratio = medianRatio(rounds, fl, func(s sample) float64 { return float64(s.P99) })
			r.Efficiency = medianEfficiency(rounds, fl)
			if floor == floorCommandName {
				r.PipelinedRatio = medianRatio(rounds, res.by[resultKey(floorPipelinedName, clients)], func(s sample) float64 { return s.OpsPerS })
			}
		}
		rep.Rows = append(rep.Rows, r)
	}
	for _, l := range long {
		rep.Errors += l.Errors
	}
	rep.Goals = rep.goals(cfg)
	return rep
}

// goals are the targets orderapi holds itself to; a goal whose scenario
// was not run (other concurrencies or lengths configured) is left out.
func (rep report) goals(cfg config) []goal {
	var gs []goal
	find := func(name string, clients int) (row, bool) {
		for _, r := range rep.Rows {
			if r.Scenario == name && r.Clients == clients {
				return r, true
			}
		}
		return row{}, false
	}
	if r, ok := find(addItemName, 32); ok {
		gs = append(gs,
			goal{"add item, 32 clients, ops/s vs floor-command", ">= 0.6", r.Ratio, r.Ratio >= 0.6},
			goal{"add item, 32 clients, p99 vs floor-command p99", "<= 3", r.P99Ratio, r.P99Ratio <= 3})
	}
	if r, ok := find(getOrderName, 32); ok {
		gs = append(gs, goal{"get order, 32 clients, ops/s vs floor-read", ">= 0.4", r.Ratio, r.Ratio >= 0.4})
	}
	// CPU per request against the floor's PostgreSQL CPU per
	// transaction, authenticated as every request of the bench is.
	for _, e := range efficiencyGoals {
		if r, ok := find(e.scenario, 32); ok && r.Efficiency > 0 {
			gs = append(gs, goal{e.scenario + ", 32 clients, efficiency vs " + r.Floor, fmt.Sprintf(">= %.2f", e.least), r.Efficiency, r.Efficiency >= e.least})
		}
	}
	var short, long *longStreamResult
	for i, l := range rep.LongStreams {
		if !l.Snapshots {
			continue
		}
		if l.Events == 10 {
			short = &rep.LongStreams[i]
		}
		if l.Events == 10000 {
			long = &rep.LongStreams[i]
		}
	}
	if short != nil && long != nil && short.P50 > 0 {
		x := float64(long.P50) / float64(short.P50)
		gs = append(gs, goal{"command on a 10,000-event order vs a 10-event one, with snapshots (p50)", "<= 2", x, x <= 2})
	}
	gs = append(gs, rep.sealingGoals()...)
	gs = append(gs, rep.relayGoals()...)
	gs = append(gs, rep.tracingGoals()...)
	gs = append(gs, goal{"failed requests", "0", float64(rep.Errors), rep.Errors == 0},
		goal{"acknowledged writes missing", "0", float64(rep.LostWrites), rep.LostWrites == 0})
	return gs
}

// efficiencyGoals are the least efficiency each scenario must reach at 32
// clients.
var efficiencyGoals = []struct {
	scenario string
	least    float64
}{{addItemName, 0.6}, {getOrderName, 0.45}}

func splitKey(k string) (string, int) {
	i := strings.LastIndexByte(k, '@')
	var n int
	fmt.Sscanf(k[i+1:], "%d", &n)
	return k[:i], n
}

// medianSample takes each figure's median across rounds.
func medianSample(ss []sample) sample {
	var m sample
	m.OpsPerS = median(ss, func(s sample) float64 { return s.OpsPerS })
	m.P50 = time.Duration(median(ss, func(s sample) float64 { return float64(s.P50) }))
	m.P99 = time.Duration(median(ss, func(s sample) float64 { return float64(s.P99) }))
	m.Ops = int(median(ss, func(s sample) float64 { return float64(s.Ops) }))
	m.ServerCPU = time.Duration(median(ss, func(s sample) float64 { return float64(s.ServerCPU) }))
	m.DatabaseCPU = time.Duration(median(ss, func(s sample) float64 { return float64(s.DatabaseCPU) }))
	m.BenchCPU = time.Duration(median(ss, func(s sample) float64 { return float64(s.BenchCPU) }))
	m.NATSCPU = time.Duration(median(ss, func(s sample) float64 { return float64(s.NATSCPU) }))
	// The relay's lag: the worst of the rounds, not their median.
	for _, s := range ss {
		if s.Relay == nil {
			continue
		}
		if m.Relay == nil {
			m.Relay = &relayRound{}
		}
		r := m.Relay
		r.MaxLag.Events, r.MaxLag.Seconds = max(r.MaxLag.Events, s.Relay.MaxLag.Events), max(r.MaxLag.Seconds, s.Relay.MaxLag.Seconds)
		r.AfterLag.Events, r.AfterLag.Seconds = max(r.AfterLag.Events, s.Relay.AfterLag.Events), max(r.AfterLag.Seconds, s.Relay.AfterLag.Seconds)
		r.Drain = max(r.Drain, s.Relay.Drain)
	}
	for _, s := range ss {
		m.Errors += s.Errors
		if m.FirstErr == "" {
			m.FirstErr = s.FirstErr
		}
	}
	return m
}

func median(ss []sample, f func(sample) float64) float64 {
	if len(ss) == 0 {
		return 0
	}
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// medianRatio is the median over rounds of a figure's ratio to the same
// figure of the floor measured in the same round.
func medianRatio(ss, floor []sample, f func(sample) float64) float64 {
	var ratios []sample
	for i := range min(len(ss), len(floor)) {
		if d := f(floor[i]); d > 0 {
			ratios = append(ratios, sample{OpsPerS: f(ss[i]) / d})
		}
	}
	return median(ratios, func(s sample) float64 { return s.OpsPerS })
}

// medianEfficiency is the median over rounds of the floor's database CPU
// per transaction over the scenario's server and database CPU per
// request, measured in the same round; 0 where CPU could not be read.
func medianEfficiency(ss, floor []sample) float64 {
	var effs []sample
	for i := range min(len(ss), len(floor)) {
		if cost := ss[i].ServerCPU + ss[i].DatabaseCPU; cost > 0 && floor[i].DatabaseCPU > 0 {
			effs = append(effs, sample{OpsPerS: float64(floor[i].DatabaseCPU) / float64(cost)})
		}
	}
	return median(effs, func(s sample) float64 { return s.OpsPerS })
}

func (rep report) print(w io.Writer) {
	fmt.Fprintf(w, "\n%s\n\n", rep.Machine)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tclients\tops/s\tp50\tp99\tfloor\tratio\tp99 ratio\tvs pipelined\tefficiency\tCPU/op: server\tdatabase\tload\terrors\t")
	for _, r := range rep.Rows {
		if r.Scenario == relayOffName || r.Scenario == relayOnName || isTracingScenario(r.Scenario) || isSealingOffScenario(r.Scenario) {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.Scenario, r.Clients, r.Median.OpsPerS,
			fmtDur(r.Median.P50), fmtDur(r.Median.P99), r.Floor, fmtRatio(r.Ratio), fmtRatio(r.P99Ratio), fmtRatio(r.PipelinedRatio), fmtRatio(r.Efficiency),
			fmtDur(r.Median.ServerCPU), fmtDur(r.Median.DatabaseCPU), fmtDur(r.Median.BenchCPU), r.Median.Errors)
	}
	tw.Flush()

	if len(rep.LongStreams) > 0 {
		fmt.Fprintln(w, "\none command on a long order, one client:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "events\tsnapshots\tcommands\tp50\tmean\tp99\terrors\t")
		for _, l := range rep.LongStreams {
			fmt.Fprintf(tw, "%d\t%t\t%d\t%s\t%s\t%s\t%d\t\n", l.Events, l.Snapshots, l.Commands, fmtDur(l.P50), fmtDur(l.Mean), fmtDur(l.P99), l.Errors)
		}
		tw.Flush()
	}

	rep.printSealing(w)
	rep.printRelay(w)
	rep.printTracing(w)

	printGoals(w, rep.Goals)
	if rep.LateCreates > 0 {
		fmt.Fprintf(w, "\n%d add-item orders were created within a measurement (their pools ran out)\n", rep.LateCreates)
	}
}

// printGoals lists the goals, each met or missed.
func printGoals(w io.Writer, goals []goal) {
	fmt.Fprintln(w, "\ngoals:")
	for _, g := range goals {
		mark := "met"
		if !g.Met {
			mark = "MISSED"
		}
		fmt.Fprintf(w, "  %-6s %s: %.2f (want %s)\n", mark, g.Name, g.Measured, g.Target)
	}
}

func (rep report) write(path string) error { return writeJSON(path, rep) }

// publish prints a run's report and writes it to out; a run with failed
// requests or acknowledged writes missing fails, whatever its figures.
func publish(stdout io.Writer, out string, started time.Time, rep interface {
	print(io.Writer)
	write(string) error
}, failed, lost int) error {
	rep.print(stdout)
	if err := rep.write(out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s in %s\n", out, time.Since(started).Round(time.Second))
	if failed > 0 || lost > 0 {
		return fmt.Errorf("%d failed requests and %d acknowledged writes missing", failed, lost)
	}
	return nil
}

// writeJSON writes a report as indented JSON.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	default:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
}

func fmtRatio(x float64) string {
	if x == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", x)
}
