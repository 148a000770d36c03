package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestAnalyticsQueryValidate(t *testing.T) {
	tests := []struct {
		name   string
		q      app.AnalyticsQuery
		fields []string
	}{
		{"one day", app.AnalyticsQuery{From: day("2026-03-01"), To: day("2026-03-01")}, nil},
		{"366 days after", app.AnalyticsQuery{From: day("2024-01-01"), To: day("2025-01-01")}, nil},
		{"367 days after", app.AnalyticsQuery{From: day("2024-01-01"), To: day("2025-01-02")}, []string{"to"}},
		{"to before from", app.AnalyticsQuery{From: day("2026-03-02"), To: day("2026-03-01")}, []string{"to"}},
		{"neither", app.AnalyticsQuery{}, []string{"from", "to"}},
		{"not midnight", app.AnalyticsQuery{From: day("2026-03-01").Add(time.Hour), To: day("2026-03-01").Add(time.Hour)}, []string{"from", "to"}},
		{"negative position", app.AnalyticsQuery{From: day("2026-03-01"), To: day("2026-03-01"), MinPosition: -1}, []string{"min_position"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.q.Validate()
			var fields []string
			if e, ok := errors.AsType[*order.Error](err); ok {
				for _, f := range e.Fields {
					fields = append(fields, f.Field)
				}
			} else if err != nil {
				t.Fatalf("Validate = %v", err)
			}
			if len(fields) != len(tt.fields) {
				t.Fatalf("fields = %v, want %v", fields, tt.fields)
			}
			for i := range fields {
				if fields[i] != tt.fields[i] {
					t.Errorf("fields = %v, want %v", fields, tt.fields)
				}
			}
		})
	}
}

// fakeAnalytics is a projection whose progress the test moves by hand.
type fakeAnalytics struct {
	mu        sync.Mutex
	committed map[int64]app.FeedCursor
	at        app.FeedCursor
	reads     int
}

func (f *fakeAnalytics) commit(position int64, txid uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.committed[position] = app.FeedCursor{TransactionID: txid, Position: position}
}

func (f *fakeAnalytics) advance(c app.FeedCursor) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.at = c
}

func (f *fakeAnalytics) DailyFigures(context.Context, app.AnalyticsQuery) (app.AnalyticsReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return app.AnalyticsReport{Days: []app.DailyFigures{}, Progress: app.ProjectionStatus{Name: app.ProjectionAnalytics, Position: f.at}}, nil
}

func (f *fakeAnalytics) AnalyticsPosition(context.Context) (app.FeedCursor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at, nil
}

func (f *fakeAnalytics) EventCursor(_ context.Context, position int64) (app.FeedCursor, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.committed[position]
	return c, ok, nil
}

func (f *fakeAnalytics) Projections(context.Context) (app.ProjectionsReport, error) {
	return app.ProjectionsReport{}, nil
}

// fakeWaker wakes its subscribers when the test says so.
type fakeWaker struct {
	mu   sync.Mutex
	subs []chan struct{}
}

func (w *fakeWaker) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	w.subs = append(w.subs, ch)
	w.mu.Unlock()
	return ch, func() {}
}

func (w *fakeWaker) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range w.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func analyticsService(t *testing.T, wait time.Duration) (*app.Service, *fakeAnalytics, *fakeWaker) {
	t.Helper()
	store := eventstore.New(pgtest.New(t), eventstore.Config{})
	fa := &fakeAnalytics{committed: map[int64]app.FeedCursor{}}
	fw := &fakeWaker{}
	svc, err := app.NewService(store, store, app.Config{Analytics: fa, Wake: fw, AnalyticsWait: wait})
	if err != nil {
		t.Fatal(err)
	}
	return svc, fa, fw
}

func TestDailyAnalyticsWaitsForItsPosition(t *testing.T) {
	t.Parallel()
	svc, fa, fw := analyticsService(t, 5*time.Second)
	q := app.AnalyticsQuery{From: day("2026-03-01"), To: day("2026-03-01"), MinPosition: 7}

	// Given position 7 is not committed yet, and commits in a transaction
	// younger than position 8's
	go func() {
		time.Sleep(30 * time.Millisecond)
		fa.commit(7, 900)
		fw.wake()
		time.Sleep(30 * time.Millisecond)
		// the projection passes position 8, of an older transaction: not
		// yet 7
		fa.advance(app.FeedCursor{TransactionID: 899, Position: 8})
		fw.wake()
		time.Sleep(30 * time.Millisecond)
		fa.advance(app.FeedCursor{TransactionID: 900, Position: 7})
		fw.wake()
	}()

	// When the query waits for it
	start := time.Now()
	r, err := svc.DailyAnalytics(context.Background(), q)

	// Then it answers once the projection is past 7 in feed order
	if err != nil {
		t.Fatal(err)
	}
	if r.Progress.Position != (app.FeedCursor{TransactionID: 900, Position: 7}) {
		t.Errorf("answered at %+v", r.Progress.Position)
	}
	if waited := time.Since(start); waited < 90*time.Millisecond || waited > 2*time.Second {
		t.Errorf("waited %s", waited)
	}
}

func TestDailyAnalyticsGivesUpWhenLagging(t *testing.T) {
	t.Parallel()
	svc, fa, _ := analyticsService(t, 200*time.Millisecond)
	fa.commit(3, 500)
	fa.advance(app.FeedCursor{TransactionID: 499, Position: 9})
	for _, position := range []int64{3, 4} { // counted too late; never committed
		start := time.Now()
		_, err := svc.DailyAnalytics(context.Background(), app.AnalyticsQuery{From: day("2026-03-01"), To: day("2026-03-01"), MinPosition: position})
		if !errors.Is(err, app.ErrProjectionLagging) {
			t.Errorf("position %d: %v, want ErrProjectionLagging", position, err)
		}
		if waited := time.Since(start); waited < 200*time.Millisecond || waited > 2*time.Second {
			t.Errorf("position %d: gave up after %s", position, waited)
		}
	}
	if fa.reads != 0 {
		t.Errorf("figures read %d times for lagging queries", fa.reads)
	}

	// A client that leaves first gets its own context's error
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := svc.DailyAnalytics(ctx, app.AnalyticsQuery{From: day("2026-03-01"), To: day("2026-03-01"), MinPosition: 4})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, app.ErrProjectionLagging) {
		t.Errorf("cancelled client: %v", err)
	}
}

func TestAnalyticsNeedsItsStore(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	if _, err := svc.DailyAnalytics(context.Background(), app.AnalyticsQuery{From: day("2026-03-01"), To: day("2026-03-01")}); err == nil {
		t.Error("DailyAnalytics without an analytics store succeeded")
	}
	if _, err := svc.Projections(context.Background()); err == nil {
		t.Error("Projections without an analytics store succeeded")
	}
}
