package projections_test

import "github.com/orderapi/orderapi/internal/adapters/postgres/analyticstest"

// The analytics consumer, run as its own tests run it.
var (
	newAnalytics = analyticstest.NewProjector
	runAnalytics = analyticstest.Run
	waitCaughtUp = analyticstest.WaitCaughtUp
	assertExact  = analyticstest.AssertExact
)
