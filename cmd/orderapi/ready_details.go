package main

import (
	"context"
	"fmt"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/app"
)

// readyDetails lists for GET /readyz what a serving replica wants an
// operator to see: the analytics projection stopped before an event this
// build cannot decode, and stored events its readers could not decode.
// Neither makes it unready: the rest of the API works. It runs at every
// probe, so it reads the stall record alone, not the projection's lag;
// more lists what else wants telling (the NATS relay).
func readyDetails(stalled func(context.Context) (*app.ProjectionStall, error), unreadable func() int64,
	more ...func(context.Context) []httpapi.ReadyDetail) func(context.Context) []httpapi.ReadyDetail {
	return func(ctx context.Context) []httpapi.ReadyDetail {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		var details []httpapi.ReadyDetail
		if st, err := stalled(ctx); err == nil && st != nil {
			details = append(details, httpapi.ReadyDetail{Code: "projection_stalled", Detail: st.Describe(app.ProjectionAnalytics)})
		}
		if n := unreadable(); n > 0 {
			details = append(details, httpapi.ReadyDetail{Code: "events_unreadable", Detail: fmt.Sprintf(
				"readers of this replica met %d stored events it cannot decode since it started; orderapi check names them", n)})
		}
		for _, m := range more {
			details = append(details, m(ctx)...)
		}
		return details
	}
}

// allReady is ready when every check is, failing with the first that
// fails.
func allReady(checks ...func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		for _, c := range checks {
			if err := c(ctx); err != nil {
				return err
			}
		}
		return nil
	}
}
