package standby

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
)

// RecoveryTracer returns the tracer a standby's pool must have: next
// (nil for none) and a check, after each query a standby's read makes,
// that the server was still in recovery. PostgreSQL (14 and later)
// reports in_hot_standby to every connection: "on" at connect to a
// standby, and "off", before the ReadyForQuery that ends a query, once
// the server has been promoted. A snapshot taken after the promotion may
// hold writes the primary never had; any answer whose query ended
// without "on" is discarded and the primary answers instead. It costs no
// round trip.
func RecoveryTracer(next pgx.QueryTracer) pgx.QueryTracer {
	if next == nil {
		return recoveryTracer{}
	}
	return multitracer.New(next, recoveryTracer{})
}

type recoveryTracer struct{}

// watchKey carries the reads a query is made for, to be told when the
// server was not in recovery.
type watchKey struct{}

func (recoveryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (recoveryTracer) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, _ pgx.TraceQueryEndData) {
	if rd, ok := ctx.Value(watchKey{}).(*reads); ok && !inHotStandby(conn) {
		rd.leftRecovery = true
	}
}

// inHotStandby is what the server last told conn of its recovery.
func inHotStandby(conn *pgx.Conn) bool {
	return conn.PgConn().ParameterStatus("in_hot_standby") == "on"
}

// watchesRecovery reports whether t is, or holds, a RecoveryTracer.
func watchesRecovery(t pgx.QueryTracer) bool {
	switch t := t.(type) {
	case recoveryTracer:
		return true
	case *multitracer.Tracer:
		for _, q := range t.QueryTracers {
			if watchesRecovery(q) {
				return true
			}
		}
	}
	return false
}
