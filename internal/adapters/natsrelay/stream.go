package natsrelay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamConfig is the stream the relay publishes to, and its limits.
type StreamConfig struct {
	// Name is the stream's name; ORDERAPI_EVENTS if empty.
	Name string
	// SubjectPrefix: events go to <prefix>.<Type>.<order_id>, and the
	// stream holds <prefix>.>; orderapi.events if empty.
	SubjectPrefix string
	// MaxAge is how long a message is kept; 0 keeps it for ever.
	MaxAge time.Duration
	// MaxBytes bounds the stream's size, the oldest discarded first; -1
	// (or 0) for no bound.
	MaxBytes int64
	// Replicas is the number of copies a JetStream cluster keeps; 1 if 0.
	Replicas int
	// DuplicateWindow is how long the server remembers a Nats-Msg-Id;
	// 2m if 0. The guards, not the window, keep the stream free of
	// duplicates; the window only answers a resent message as a duplicate.
	DuplicateWindow time.Duration
}

// Defaults of StreamConfig.
const (
	DefaultStream          = "ORDERAPI_EVENTS"
	DefaultSubjectPrefix   = "orderapi.events"
	DefaultDuplicateWindow = 2 * time.Minute
)

func (c StreamConfig) withDefaults() StreamConfig {
	if c.Name == "" {
		c.Name = DefaultStream
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = -1
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	return c
}

// subjects is what the stream must hold: every subject under the prefix.
func (c StreamConfig) subjects() []string { return []string{c.SubjectPrefix + ".>"} }

// jetstreamConfig is the stream's configuration as JetStream takes it:
// limits retention, file storage, the oldest discarded at a limit.
func (c StreamConfig) jetstreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        c.Name,
		Description: "orderapi: every order event, once, in global-feed order",
		Subjects:    c.subjects(),
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardOld,
		MaxAge:      c.MaxAge,
		MaxBytes:    c.MaxBytes,
		MaxMsgs:     -1,
		Replicas:    c.Replicas,
		Duplicates:  c.DuplicateWindow,
	}
}

// ErrForeignStream is a stream of the configured name that does not hold
// exactly the relay's subjects: the relay will not publish to it, nor
// change it.
var ErrForeignStream = errors.New("natsrelay: the stream holds other subjects")

// EnsureStream creates the stream when it is missing. An existing stream
// is left as it is, never deleted nor re-created; one with other
// subjects is refused (ErrForeignStream).
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) error {
	_, err := ensureStream(ctx, js, cfg)
	return err
}

// ensureStream is EnsureStream returning the stream, whose CachedInfo is
// its state as of the call.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (jetstream.Stream, error) {
	cfg = cfg.withDefaults()
	s, err := js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, cfg.jetstreamConfig())
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return ensureStream(ctx, js, cfg) // another replica made it first
		}
		if err != nil {
			return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
		}
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up stream %s: %w", cfg.Name, err)
	}
	return s, sameSubjects(cfg, s.CachedInfo().Config.Subjects)
}

func sameSubjects(cfg StreamConfig, got []string) error {
	if !slices.Equal(got, cfg.subjects()) {
		return fmt.Errorf("%w: stream %s holds %v, the relay publishes to %v; name another stream (ORDERAPI_NATS_STREAM) or prefix (ORDERAPI_NATS_SUBJECT_PREFIX)",
			ErrForeignStream, cfg.Name, got, cfg.subjects())
	}
	return nil
}

// SetupStream creates the stream, or brings an existing one's limits
// (age, size, replicas, duplicate window) to cfg, ahead of a deploy. It
// never deletes a stream, and refuses one with other subjects. It returns
// what it did: "created", "updated" or "unchanged".
func SetupStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (string, error) {
	cfg = cfg.withDefaults()
	s, err := js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if _, err := js.CreateStream(ctx, cfg.jetstreamConfig()); err != nil {
			return "", fmt.Errorf("create stream %s: %w", cfg.Name, err)
		}
		return "created", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up stream %s: %w", cfg.Name, err)
	}
	have := s.CachedInfo().Config
	if err := sameSubjects(cfg, have.Subjects); err != nil {
		return "", err
	}
	want := have
	want.MaxAge, want.MaxBytes, want.Replicas, want.Duplicates = cfg.MaxAge, cfg.MaxBytes, cfg.Replicas, cfg.DuplicateWindow
	if want.MaxAge == have.MaxAge && want.MaxBytes == have.MaxBytes && want.Replicas == have.Replicas && want.Duplicates == have.Duplicates {
		return "unchanged", nil
	}
	if _, err := js.UpdateStream(ctx, want); err != nil {
		return "", fmt.Errorf("update stream %s: %w", cfg.Name, err)
	}
	return "updated", nil
}

// StreamTail returns the stream's last sequence and, when the stream
// still holds that message, the event id it carries (uuid.Nil otherwise):
// where an operator's resume places the relay. It never creates the
// stream: a mistyped name must not make one.
func StreamTail(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (uint64, uuid.UUID, error) {
	s, last, err := streamLast(ctx, js, cfg)
	if err != nil || last == 0 {
		return last, uuid.Nil, err
	}
	m, err := s.GetMsg(ctx, last)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return last, uuid.Nil, nil
	}
	if err != nil {
		return 0, uuid.Nil, fmt.Errorf("read stream %s's message %d: %w", cfg.Name, last, err)
	}
	id, err := uuid.Parse(m.Header.Get(jetstream.MsgIDHeader))
	if err != nil {
		return last, uuid.Nil, nil
	}
	return last, id, nil
}

// LastEvent finds, among the stream's newest limit messages, the newest
// whose Nats-Msg-Id is an event that known says is this database's: the
// last event the stream holds. found is false when none is.
func LastEvent(ctx context.Context, js jetstream.JetStream, cfg StreamConfig, known func(uuid.UUID) (bool, error), limit int) (seq uint64, id uuid.UUID, found bool, err error) {
	s, last, err := streamLast(ctx, js, cfg)
	if err != nil {
		return 0, uuid.Nil, false, err
	}
	for seq = last; seq > 0 && last-seq < uint64(limit); seq-- {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, uuid.Nil, false, fmt.Errorf("read stream %s's message %d: %w", cfg.Name, seq, err)
		}
		id, err := uuid.Parse(m.Header.Get(jetstream.MsgIDHeader))
		if err != nil {
			continue
		}
		ok, err := known(id)
		if err != nil {
			return 0, uuid.Nil, false, err
		}
		if ok {
			return seq, id, true, nil
		}
	}
	return 0, uuid.Nil, false, nil
}

// streamLast looks the stream up, without creating it, and reads its last
// sequence.
func streamLast(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (jetstream.Stream, uint64, error) {
	cfg = cfg.withDefaults()
	s, err := js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, 0, fmt.Errorf("there is no stream %s (ORDERAPI_NATS_STREAM); the relay makes it when it runs", cfg.Name)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("look up stream %s: %w", cfg.Name, err)
	}
	info := s.CachedInfo()
	if err := sameSubjects(cfg, info.Config.Subjects); err != nil {
		return nil, 0, err
	}
	return s, info.State.LastSeq, nil
}
