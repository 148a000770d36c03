// Package analyticstest recomputes the analytics projection's figures from
// the event store alone, so that tests can hold the projection to them.
//
// The recomputation itself is analytics.Recount, whose counting `orderapi
// projections verify` uses too: it shares nothing with the projection but
// the event codec. This package gives tests its results and a readable
// diff.
package analyticstest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
)

// Key names a day (YYYY-MM-DD, UTC) and a currency.
type Key = analytics.Key

// Figures are one day's figures in one currency.
type Figures = analytics.Figures

// Querier is a pool or a connection.
type Querier = postgres.Querier

// Recompute replays every committed stream and counts its events.
func Recompute(ctx context.Context, db Querier) (map[Key]Figures, error) {
	return analytics.Recount(ctx, db)
}

// Projected reads the projection's figures from analytics_daily.
func Projected(ctx context.Context, db Querier) (map[Key]Figures, error) {
	return analytics.Projected(ctx, db)
}

// Diff lists the days whose figures differ, or "" when none does.
func Diff(want, got map[Key]Figures) string {
	keys := slices.Collect(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.Currency, b.Currency))
	})
	var b strings.Builder
	for _, k := range keys {
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case !inGot:
			fmt.Fprintf(&b, "%s %s: missing, want %s\n", k.Date, k.Currency, w)
		case !inWant:
			fmt.Fprintf(&b, "%s %s: %s, want no row\n", k.Date, k.Currency, g)
		case !w.Equal(g):
			fmt.Fprintf(&b, "%s %s:\n  got  %s\n  want %s\n", k.Date, k.Currency, g, w)
		}
	}
	return b.String()
}
