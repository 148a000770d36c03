package natsrelay

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/app"
)

// Why a relay publishes nothing, as GET /v1/projections and /readyz name
// it (the stalled object's code); app.StallEventUnreadable besides.
const (
	// StopBrokerUnreachable: NATS does not answer.
	StopBrokerUnreachable = "broker_unreachable"
	// StopBrokerUnauthorized: NATS refuses the relay's credentials or
	// permissions.
	StopBrokerUnauthorized = "broker_unauthorized"
	// StopStreamUnusable: the stream cannot be created or read, or holds
	// other subjects.
	StopStreamUnusable = "stream_unusable"
	// StopPublishRefused: the stream refuses the relay's messages (full
	// with discard new, a message over its size limit).
	StopPublishRefused = "publish_refused"
	// StopStreamMismatch: the stream disagrees with the relay's
	// checkpoint (a message someone else published, a stream deleted or
	// re-created); an operator decides with `orderapi nats resume`.
	StopStreamMismatch = "stream_mismatch"
)

// stopError is a failure with the code it is reported under.
type stopError struct {
	code string
	err  error
}

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// streamErr is a failure to use the stream: an answer of JetStream's API
// means the stream is unusable, anything else is classified by stopOf.
func streamErr(err error) error {
	var api *jetstream.APIError
	if errors.As(err, &api) || errors.Is(err, ErrForeignStream) {
		return &stopError{code: StopStreamUnusable, err: err}
	}
	return err
}

// publishErr is a failed publish: JetStream refusing a message for any
// other reason than its guard is a refused publish.
func publishErr(err error) error {
	var api *jetstream.APIError
	if errors.As(err, &api) && !guardFailed(err) {
		return &stopError{code: StopPublishRefused, err: err}
	}
	return err
}

// guardFailed reports whether err is the sequence guard refusing a
// publish: the stream moved under the relay.
func guardFailed(err error) bool {
	var api *jetstream.APIError
	return errors.As(err, &api) && (api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// stallOf is err as a stop record.
func (r *Relay) stallOf(err error) app.ProjectionStall {
	code := StopBrokerUnreachable
	var se *stopError
	var mm *mismatch
	switch {
	case errors.As(err, &mm):
		code = StopStreamMismatch
	case errors.As(err, &se):
		code = se.code
	default:
		if why := r.refusal(err); why != nil {
			return app.ProjectionStall{Code: StopBrokerUnauthorized,
				Reason: fmt.Sprintf("NATS refuses the relay's credentials or permissions (ORDERAPI_NATS_URL): %v", why)}
		}
	}
	return app.ProjectionStall{Code: code, Reason: err.Error()}
}

// refusal is err, or the connection's last error while it is down, when
// that is NATS refusing the relay's credentials or permissions; else nil.
func (r *Relay) refusal(err error) error {
	denied := func(err error) bool {
		return errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrPermissionViolation) ||
			errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) || errors.Is(err, nats.ErrAccountAuthExpired)
	}
	if denied(err) {
		return err
	}
	if nc := r.nc.Load(); nc != nil && !nc.IsConnected() && denied(nc.LastError()) {
		return nc.LastError()
	}
	return nil
}

// stopRecord is the stop record as this process last wrote it.
type stopRecord struct {
	mu sync.Mutex
	// written is the last record written; nil when cleared.
	written *app.ProjectionStall
	// unknown: what the record holds is not known (the start of a term
	// holding the lock), so the next clear writes.
	unknown bool
}

// stopped records why the relay publishes nothing, once per reason, and
// logs it; only while this process holds the lock (alive), so that a
// holder that lost it, unaware, cannot overwrite its successor's record.
func (r *Relay) stopped(ctx context.Context, alive func(context.Context) error, st app.ProjectionStall) {
	r.stop.mu.Lock()
	defer r.stop.mu.Unlock()
	if w := r.stop.written; w != nil && !r.stop.unknown && w.Code == st.Code && w.EventID == st.EventID && w.Reason == st.Reason {
		return
	}
	if err := alive(ctx); err != nil {
		return
	}
	if err := r.cfg.Checkpoints.Stop(ctx, r.cfg.Stream.Name, st); err != nil {
		r.log.Warn().Err(err).Msg("nats relay cannot record why it is stopped")
		return
	}
	r.stop.written, r.stop.unknown = &st, false
	ev := r.log.Error()
	if st.Code == StopBrokerUnreachable {
		ev = r.log.Warn()
	}
	ev.Str("code", st.Code).Msg("nats relay stopped: " + st.Reason)
}

// forgetStop makes the next record written, whatever this process wrote
// before: the record may have changed under it (a new term of the lock,
// an operator's resume).
func (r *Relay) forgetStop() {
	r.stop.mu.Lock()
	r.stop.unknown = true
	r.stop.mu.Unlock()
}

// going clears the stop record once the relay publishes again.
func (r *Relay) going(ctx context.Context) error {
	r.stop.mu.Lock()
	defer r.stop.mu.Unlock()
	if r.stop.written == nil && !r.stop.unknown {
		return nil
	}
	if err := r.cfg.Checkpoints.Clear(ctx, r.cfg.Stream.Name); err != nil {
		return err
	}
	if r.stop.written != nil {
		r.log.Info().Msg("nats relay publishes again")
	}
	r.stop.written, r.stop.unknown = nil, false
	return nil
}

// unreadable is the stop record of an event this build cannot decode.
func unreadable(e app.RecordedEvent) app.ProjectionStall {
	return app.ProjectionStall{Code: app.StallEventUnreadable, EventID: e.EventID, Position: e.Position,
		Reason: fmt.Sprintf("%s schema version %d cannot be decoded by this build; run a build that can (orderapi check names every such event)",
			e.Type, e.SchemaVersion)}
}
