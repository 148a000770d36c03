// Package livefeed streams the global feed of order events to clients as
// server-sent events, from the process's shared tail (feedhub): how many
// streams it admits, per client and in all, and how each one is written,
// kept alive and ended.
package livefeed

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/feedhub"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
)

const (
	// sseRetry is the reconnection delay the stream suggests to clients.
	sseRetry = 2 * time.Second
	// sseWriteTimeout bounds each write of a live feed: a client that
	// reads nothing for this long is dropped.
	sseWriteTimeout = 30 * time.Second
	// sseLastWriteGrace bounds the write that ends a stream cut short
	// (see sseWriter.endWhen).
	sseLastWriteGrace = time.Second
)

// Config is what a Feed needs. Zero Streams, StreamsPerClient and
// Heartbeat take the defaults.
type Config struct {
	Hub                       *feedhub.Hub
	Streams, StreamsPerClient int
	// Client names whom a request counts against.
	Client func(*http.Request) string
	// Heartbeat is how often a quiet stream sends a comment.
	Heartbeat time.Duration
	// Closing, once closed, ends every stream: the server shuts down.
	Closing <-chan struct{}
	// Encode makes an event's message, its id signed.
	Encode func(app.RecordedEvent) ([]byte, error)
}

// defaultHeartbeat is how often a quiet stream sends a comment unless
// Config says otherwise.
const defaultHeartbeat = 15 * time.Second

// New is a Feed for cfg.
func New(cfg Config) (*Feed, error) {
	streams, err := newStreamSlots(cfg.Streams, cfg.StreamsPerClient)
	if err != nil {
		return nil, err
	}
	lf := &Feed{hub: cfg.Hub, streams: streams, client: cfg.Client, heartbeat: cfg.Heartbeat, closing: cfg.Closing, encode: cfg.Encode}
	if lf.heartbeat == 0 {
		lf.heartbeat = defaultHeartbeat
	}
	if lf.heartbeat < 0 {
		return nil, fmt.Errorf("negative FeedHeartbeat %s", lf.heartbeat)
	}
	return lf, nil
}

// Feed streams the global feed as server-sent events, from the
// process's shared tail.
type Feed struct {
	hub *feedhub.Hub
	// streams admits each stream, by client.
	streams *streamSlots
	client  func(*http.Request) string
	// heartbeat is how often a quiet stream sends a comment.
	heartbeat time.Duration
	// closing, once closed, ends every stream: the server shuts down.
	closing <-chan struct{}
	// encode makes an event's message, its id signed.
	encode func(app.RecordedEvent) ([]byte, error)
}

// Serve streams the feed after q.After: each event as a message whose id
// is the cursor after it, so that a reconnecting EventSource resumes
// exactly there. A stream the client does not read fast enough is ended
// after what it was sent (see feedhub.ErrTooSlow); the client resumes from
// its last id. q.Limit does not matter here: the hub reads large pages.
//
// A stream lasts as long as the token that opened it: it ends, as at
// shutdown, when the principal's Expires passes, and the client reconnects
// with a fresh token and its last id. A token that has expired already
// (the verifier allows some clock skew) opens none.
func (lf *Feed) Serve(w http.ResponseWriter, r *http.Request, q app.FeedQuery) {
	ctx := r.Context()
	expires := access.Principal(ctx).Expires
	if err := tokenLive(expires); err != nil {
		problem.Write(w, r, err)
		return
	}
	release, err := lf.streams.acquire(lf.client(r))
	if err != nil {
		problem.Write(w, r, err)
		return
	}
	defer release()
	sub, err := lf.hub.Subscribe(feedhub.Query{After: q.After, Types: q.Types, MinPosition: q.MinPosition})
	if err != nil {
		problem.Write(w, r, err)
		return
	}
	defer sub.Close()
	// The first read comes before the 200, so that a database that cannot
	// be reached is a 503 problem, not an empty stream.
	batch, err := sub.Next(ctx)
	if err != nil {
		problem.Write(w, r, err)
		return
	}

	setEventStreamHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	out := &sseWriter{w: w, rc: http.NewResponseController(w), encode: lf.encode}
	ending, stop := out.endWhen(lf.closing, expires)
	defer stop()
	if out.retry(sseRetry) != nil {
		return
	}
	heartbeat := time.NewTicker(lf.heartbeat)
	defer heartbeat.Stop()
	log := hlog.FromRequest(r)
	for {
		if err := out.events(batch); err != nil {
			log.Debug().Err(err).Msg("live feed write failed")
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-ending:
			return
		case <-heartbeat.C:
			batch = nil
			if out.comment("keep-alive") != nil {
				return
			}
			continue
		case <-sub.Ready():
		}
		if batch, err = sub.Next(ctx); err != nil && !goOn(log, ctx.Err(), err) {
			return
		}
	}
}

// Head answers HEAD as the live feed's GET begins, without opening the
// stream: whether a stream would be admitted now, then its first read,
// decide the status there too.
func (lf *Feed) Head(w http.ResponseWriter, r *http.Request, read func(context.Context) error) {
	if err := tokenLive(access.Principal(r.Context()).Expires); err != nil {
		problem.Write(w, r, err)
		return
	}
	release, err := lf.streams.acquire(lf.client(r))
	if err != nil {
		problem.Write(w, r, err)
		return
	}
	release()
	if err := read(r.Context()); err != nil {
		problem.Write(w, r, err)
		return
	}
	setEventStreamHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
}

// setEventStreamHeaders sets the headers of a live feed's answer.
func setEventStreamHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	// Proxies such as nginx would otherwise buffer the stream.
	h.Set("X-Accel-Buffering", "no")
}

// Wanted reports whether the request's Accept header names
// text/event-stream (with a q above zero), what an EventSource sends, and
// prefers it at least as much as JSON (application/json, application/* or
// */*). Anything else gets JSON.
func Wanted(r *http.Request) bool {
	stream, json := 0.0, 0.0
	for _, header := range r.Header.Values("Accept") {
		for _, item := range strings.Split(header, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(item))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				// RFC 9110's qvalue: 0 to 1; anything else is no weight.
				if q, err = strconv.ParseFloat(s, 64); err != nil || !(q >= 0 && q <= 1) {
					continue
				}
			}
			switch mt {
			case "text/event-stream":
				stream = max(stream, q)
			case "application/json", "application/*", "*/*":
				json = max(json, q)
			}
		}
	}
	return stream > 0 && stream >= json
}

// goOn reports whether a live feed outlives err from its subscription,
// logging what the operator should know.
func goOn(log *zerolog.Logger, ended error, err error) bool {
	switch {
	case ended != nil, errors.Is(err, feedhub.ErrClosed):
		return false
	case errors.Is(err, feedhub.ErrTooSlow):
		// The hub logged the drop; the client resumes from its last id.
		return false
	}
	if _, internal := problem.From(err); internal {
		// The client reconnects with the last id it received.
		log.Error().Err(err).Msg("live feed failed")
		return false
	}
	// The database is away: keep the stream; the read is tried again.
	log.Warn().Err(err).Msg("live feed read failed; retrying")
	return true
}

// tokenLive refuses a live feed to a token that has expired at expires,
// though within the clock skew the verifier allows: its stream would end
// at once.
func tokenLive(expires time.Time) error {
	if !expires.IsZero() && !time.Now().Before(expires) {
		return errStreamTokenExpired
	}
	return nil
}

var errStreamTokenExpired = app.InvalidToken("expired")
