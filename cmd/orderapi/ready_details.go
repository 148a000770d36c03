package main

import (
	"context"
	"fmt"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/app"
)

// readyDetails lists for GET /readyz what a serving replica wants an
// operator to see: an asynchronous projection stopped before an event
// this build cannot decode, and stored events its readers could not
// decode. Neither makes it unready: the rest of the API works.
func readyDetails(projections interface {
	Projections(context.Context) (app.ProjectionsReport, error)
}, unreadable func() int64) func(context.Context) []httpapi.ReadyDetail {
	return func(ctx context.Context) []httpapi.ReadyDetail {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		var details []httpapi.ReadyDetail
		if report, err := projections.Projections(ctx); err == nil {
			for _, p := range report.Projections {
				if st := p.Stalled; st != nil {
					details = append(details, httpapi.ReadyDetail{Code: "projection_stalled", Detail: fmt.Sprintf(
						"%s is stopped before event %s (position %d), which this build cannot decode, since %s: %s",
						p.Name, st.EventID, st.Position, st.Since.Format(time.RFC3339), st.Reason)})
				}
			}
		}
		if n := unreadable(); n > 0 {
			details = append(details, httpapi.ReadyDetail{Code: "events_unreadable", Detail: fmt.Sprintf(
				"readers of this replica met %d stored events it cannot decode since it started; orderapi check names them", n)})
		}
		return details
	}
}
