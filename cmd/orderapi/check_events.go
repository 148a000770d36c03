package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// namedUnreadable is how many unreadable events check names.
const namedUnreadable = 20

// checkEvents decodes every stored event and reads the analytics
// projection's state, and fails naming each event this build cannot read
// and a projection stopped before one.
func checkEvents(ctx context.Context, store *eventstore.Store, log zerolog.Logger) error {
	audit, err := store.AuditEvents(ctx, namedUnreadable)
	if err != nil {
		return err
	}
	var problems []string
	for _, u := range audit.First {
		problems = append(problems, u.Error())
	}
	if more := audit.Unreadable - int64(len(audit.First)); more > 0 {
		problems = append(problems, fmt.Sprintf("and %d more", more))
	}
	projector, err := analytics.New(store, log, analytics.Config{})
	if err != nil {
		return err
	}
	stalled, err := projector.Stalled(ctx)
	if err != nil {
		return err
	}
	if stalled != nil {
		problems = append(problems, "projection "+stalled.Describe(app.ProjectionAnalytics))
	}
	if len(problems) > 0 {
		return errors.New("this build cannot read every stored event: " + strings.Join(problems, "; "))
	}
	log.Info().Int64("events", audit.Read).Msg("this build decodes every stored event")
	return nil
}
