package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// A pair of scenarios is the same requests against two servers that one
// setting tells apart: pair[0] without what is measured (tracing off,
// sealing off), pair[1] with it. Which goes first alternates from round to
// round, so that neither always finds the database as the other left it.

// pairRatios are a pair's per-round ratios, pair[1] over pair[0], at one
// concurrency: CPU per operation of the server and of server and
// database together, and ops/s.
type pairRatios struct {
	pair                [2]string
	clients             int
	server, total, ops  []float64
	medServer, medTotal float64
	medOps              float64
	base, with          row
}

// pairRatios pairs the rows of each pair measured, per concurrency.
func (rep report) pairRatios(pairs [][2]string) []pairRatios {
	find := func(name string, clients int) (row, bool) {
		for _, r := range rep.Rows {
			if r.Scenario == name && r.Clients == clients {
				return r, true
			}
		}
		return row{}, false
	}
	var out []pairRatios
	for _, pair := range pairs {
		for _, r := range rep.Rows {
			if r.Scenario != pair[0] {
				continue
			}
			with, ok := find(pair[1], r.Clients)
			if !ok {
				continue
			}
			server := func(s sample) float64 { return float64(s.ServerCPU) }
			total := func(s sample) float64 { return float64(s.ServerCPU + s.DatabaseCPU) }
			ops := func(s sample) float64 { return s.OpsPerS }
			out = append(out, pairRatios{
				pair: pair, clients: r.Clients, base: r, with: with,
				server: roundRatios(with.Rounds, r.Rounds, server), total: roundRatios(with.Rounds, r.Rounds, total),
				ops:       roundRatios(with.Rounds, r.Rounds, ops),
				medServer: medianRatio(with.Rounds, r.Rounds, server), medTotal: medianRatio(with.Rounds, r.Rounds, total),
				medOps: medianRatio(with.Rounds, r.Rounds, ops),
			})
		}
	}
	return out
}

// roundRatios are a figure's ratios, round by round, sorted.
func roundRatios(ss, base []sample, f func(sample) float64) []float64 {
	var rs []float64
	for i := range min(len(ss), len(base)) {
		if d := f(base[i]); d > 0 {
			rs = append(rs, f(ss[i])/d)
		}
	}
	slices.Sort(rs)
	return rs
}

// pairGoals: each pair's pair[1] costs within most of its pair[0], in CPU
// per operation, server and database together, at each concurrency
// measured; what says what was compared, after the scenario's name and
// concurrency.
func (rep report) pairGoals(pairs [][2]string, most float64, name func(pair [2]string) string, what string) []goal {
	var gs []goal
	for _, r := range rep.pairRatios(pairs) {
		gs = append(gs, goal{fmt.Sprintf("%s, %d clients, %s: CPU/op, server + database", name(r.pair), r.clients, what),
			fmt.Sprintf("<= %.2f", most), r.medTotal, r.medTotal <= most})
	}
	return gs
}

// printPairs prints, under title, the pairs' medians, then each
// concurrency's ratios round by round, named by ratio ("on / off"); name
// gives a pair's name in those lines.
// It prints nothing, and says false, when none was measured.
func (rep report) printPairs(w io.Writer, pairs [][2]string, title, ratio string, name func(pair [2]string) string) bool {
	rs := rep.pairRatios(pairs)
	if len(rs) == 0 {
		return false
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tclients\tops/s\tp50\tp99\tCPU/op: server\tdatabase\tserver+database\terrors\t")
	for _, r := range rs {
		for _, x := range []row{r.base, r.with} {
			m := x.Median
			fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%d\t\n", x.Scenario, x.Clients, m.OpsPerS, fmtDur(m.P50), fmtDur(m.P99),
				fmtDur(m.ServerCPU), fmtDur(m.DatabaseCPU), fmtDur(m.ServerCPU+m.DatabaseCPU), m.Errors)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "%s, per round (sorted), median:\n", ratio)
	for _, r := range rs {
		fmt.Fprintf(w, "  %s, %d clients: CPU/op server %s -> %.3f; server+database %s -> %.3f; ops/s %s -> %.3f\n", name(r.pair), r.clients,
			fmtRatios(r.server), r.medServer, fmtRatios(r.total), r.medTotal, fmtRatios(r.ops), r.medOps)
	}
	return true
}

func fmtRatios(rs []float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%.3f", r)
	}
	return strings.Join(parts, " ")
}
