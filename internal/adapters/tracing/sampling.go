package tracing

import (
	"context"
	"math/rand/v2"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Sampled tells, before a server span starts, whether the sampler will
// keep it: ctx is the request's, holding the caller's span context if its
// headers named one. For a new trace, the trace id is chosen now, kept in
// the returned context, and given to the span when it starts (the
// provider's ID generator reads it), so that the sampler's decision there
// is the one made here. A server may thus pass requests that will not be
// sampled by all of its tracing work, which is most of them at a low
// ratio: an unsampled span records nothing and is never exported.
func (t *Tracing) Sampled(ctx context.Context) (context.Context, bool) {
	tid := trace.SpanContextFromContext(ctx).TraceID()
	planned := !tid.IsValid()
	if planned {
		tid = newTraceID()
	}
	res := t.sampler.ShouldSample(sdktrace.SamplingParameters{ParentContext: ctx, TraceID: tid, Kind: trace.SpanKindServer})
	if res.Decision == sdktrace.Drop {
		return ctx, false
	}
	if planned {
		ctx = context.WithValue(ctx, plannedTraceID{}, tid)
	}
	return ctx, true
}

// plannedTraceID is the context key of the trace id Sampled chose.
type plannedTraceID struct{}

// ids makes random ids, giving a new trace the id Sampled chose for it.
type ids struct{}

func (ids) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	tid, ok := ctx.Value(plannedTraceID{}).(trace.TraceID)
	if !ok {
		tid = newTraceID()
	}
	return tid, newSpanID()
}

func (ids) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return newSpanID() }

// newTraceID is a random, valid (not all zero) trace id.
func newTraceID() trace.TraceID {
	var tid trace.TraceID
	for !tid.IsValid() {
		putUint64(tid[:8], rand.Uint64())
		putUint64(tid[8:], rand.Uint64())
	}
	return tid
}

// newSpanID is a random, valid span id.
func newSpanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		putUint64(sid[:], rand.Uint64())
	}
	return sid
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}
