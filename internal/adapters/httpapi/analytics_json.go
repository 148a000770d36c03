package httpapi

import (
	"math"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/app"
)

// analyticsJSON is the answer to GET /v1/analytics/daily.
type analyticsJSON struct {
	Days       []dailyJSON  `json:"days"`
	Position   positionJSON `json:"position"`
	LagEvents  int64        `json:"lag_events"`
	LagSeconds float64      `json:"lag_seconds"`
}

// dailyJSON is one day's figures in one currency; amounts are exact text
// with the currency's minor units.
type dailyJSON struct {
	Date             string `json:"date"`
	Currency         string `json:"currency"`
	OrdersCreated    int64  `json:"orders_created"`
	OrdersPlaced     int64  `json:"orders_placed"`
	OrdersShipped    int64  `json:"orders_shipped"`
	OrdersDelivered  int64  `json:"orders_delivered"`
	OrdersCancelled  int64  `json:"orders_cancelled"`
	RevenuePlaced    string `json:"revenue_placed"`
	RevenueCancelled string `json:"revenue_cancelled"`
	ItemsSold        int64  `json:"items_sold"`
}

// positionJSON is a place in the global feed: the transaction id and the
// global position of the last event a projection reflects, and the same
// as a cursor for GET /v1/events?after=, which lists what it has not
// processed yet.
type positionJSON struct {
	TransactionID uint64 `json:"transaction_id"`
	Position      int64  `json:"position"`
	Cursor        string `json:"cursor"`
}

// projectionsJSON is the answer to GET /v1/projections.
type projectionsJSON struct {
	Projections               []projectionJSON         `json:"projections"`
	OldestOpenTransaction     *openTransactionJSON     `json:"oldest_open_transaction"`
	OldestPreparedTransaction *preparedTransactionJSON `json:"oldest_prepared_transaction"`
	AnalyticsLockHeld         bool                     `json:"analytics_lock_held"`
}

type projectionJSON struct {
	Name       string       `json:"name"`
	Mode       string       `json:"mode"`
	Position   positionJSON `json:"position"`
	LagEvents  int64        `json:"lag_events"`
	LagSeconds float64      `json:"lag_seconds"`
	UpdatedAt  *string      `json:"updated_at"`
	Stalled    *stallJSON   `json:"stalled"`
}

// stallJSON is why an async projection is stopped: before an event, or
// (the broker relay) for the reason its code names.
type stallJSON struct {
	Code     string  `json:"code"`
	EventID  *string `json:"event_id"`
	Position *int64  `json:"position"`
	Reason   string  `json:"reason"`
	Since    string  `json:"since"`
}

func toStallJSON(st app.ProjectionStall) *stallJSON {
	out := &stallJSON{Code: st.Code, Reason: st.Reason, Since: formatTime(st.Since)}
	if st.EventID != uuid.Nil {
		id, at := st.EventID.String(), st.Position
		out.EventID, out.Position = &id, &at
	}
	return out
}

type openTransactionJSON struct {
	PID        int32   `json:"pid"`
	StartedAt  string  `json:"started_at"`
	AgeSeconds float64 `json:"age_seconds"`
}

type preparedTransactionJSON struct {
	GID        string  `json:"gid"`
	Database   string  `json:"database"`
	PreparedAt string  `json:"prepared_at"`
	AgeSeconds float64 `json:"age_seconds"`
}

func toAnalyticsJSON(r app.AnalyticsReport, cursors *cursor.Signer) analyticsJSON {
	out := analyticsJSON{
		Days:       make([]dailyJSON, len(r.Days)),
		Position:   toPositionJSON(r.Progress.Position, cursors),
		LagEvents:  r.Progress.LagEvents,
		LagSeconds: seconds(r.Progress.Lag),
	}
	for i, d := range r.Days {
		out.Days[i] = dailyJSON{
			Date:             d.Date.Format(time.DateOnly),
			Currency:         string(d.Currency),
			OrdersCreated:    d.OrdersCreated,
			OrdersPlaced:     d.OrdersPlaced,
			OrdersShipped:    d.OrdersShipped,
			OrdersDelivered:  d.OrdersDelivered,
			OrdersCancelled:  d.OrdersCancelled,
			RevenuePlaced:    d.Currency.Format(d.RevenuePlaced),
			RevenueCancelled: d.Currency.Format(d.RevenueCancelled),
			ItemsSold:        d.ItemsSold,
		}
	}
	return out
}

func toProjectionsJSON(r app.ProjectionsReport, cursors *cursor.Signer) projectionsJSON {
	out := projectionsJSON{Projections: make([]projectionJSON, len(r.Projections)), AnalyticsLockHeld: r.AnalyticsLockHeld}
	for i, p := range r.Projections {
		mode := "async"
		if p.Inline {
			mode = "inline"
		}
		out.Projections[i] = projectionJSON{
			Name:       p.Name,
			Mode:       mode,
			Position:   toPositionJSON(p.Position, cursors),
			LagEvents:  p.LagEvents,
			LagSeconds: seconds(p.Lag),
			UpdatedAt:  optionalTime(p.UpdatedAt),
		}
		if st := p.Stalled; st != nil {
			out.Projections[i].Stalled = toStallJSON(*st)
		}
	}
	if ot := r.OldestOpenTransaction; ot != nil {
		out.OldestOpenTransaction = &openTransactionJSON{PID: ot.PID, StartedAt: formatTime(ot.Started), AgeSeconds: seconds(ot.Age)}
	}
	if pt := r.OldestPreparedTransaction; pt != nil {
		out.OldestPreparedTransaction = &preparedTransactionJSON{GID: pt.GID, Database: pt.Database,
			PreparedAt: formatTime(pt.Prepared), AgeSeconds: seconds(pt.Age)}
	}
	return out
}

func toPositionJSON(c app.FeedCursor, cursors *cursor.Signer) positionJSON {
	return positionJSON{TransactionID: c.TransactionID, Position: c.Position, Cursor: encodeFeedCursor(cursors, c)}
}

// seconds is a duration in seconds, to the millisecond.
func seconds(d time.Duration) float64 {
	return math.Round(d.Seconds()*1000) / 1000
}

// formatSeconds writes seconds as a header value, such as "0.25".
func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(seconds(d), 'f', -1, 64)
}
