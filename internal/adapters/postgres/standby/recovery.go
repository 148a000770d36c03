package standby

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
)

// RecoveryTracer returns the tracer a standby's pool must have: next
// (nil for none) and a check, after each query on the pool, that the
// server was still in recovery. PostgreSQL (14 and later) reports
// in_hot_standby to every connection: "on" at connect to a standby, and
// "off", before the ReadyForQuery that ends a query, once the server has
// been promoted. A snapshot taken after the promotion may hold writes the
// primary never had; a read during which any query on the pool ended
// without "on" is discarded and the primary answers instead. The count
// is kept per pool, not per caller, because coalesced reads run one
// statement for several callers in a context that is not theirs. It
// costs no round trip.
func RecoveryTracer(next pgx.QueryTracer) pgx.QueryTracer {
	t := &recoveryTracer{}
	if next == nil {
		return t
	}
	return multitracer.New(next, t)
}

type recoveryTracer struct {
	// left counts the queries that ended on a server not in recovery.
	left atomic.Uint64
}

func (*recoveryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (t *recoveryTracer) TraceQueryEnd(_ context.Context, conn *pgx.Conn, _ pgx.TraceQueryEndData) {
	if !inHotStandby(conn) {
		t.left.Add(1)
	}
}

// inHotStandby is what the server last told conn of its recovery.
func inHotStandby(conn *pgx.Conn) bool {
	return conn.PgConn().ParameterStatus("in_hot_standby") == "on"
}

// recoveryOf returns the RecoveryTracer that t is or holds; nil if none.
func recoveryOf(t pgx.QueryTracer) *recoveryTracer {
	switch t := t.(type) {
	case *recoveryTracer:
		return t
	case *multitracer.Tracer:
		for _, q := range t.QueryTracers {
			if r := recoveryOf(q); r != nil {
				return r
			}
		}
	}
	return nil
}
