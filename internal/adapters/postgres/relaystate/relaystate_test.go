package relaystate_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/relaystate"
	"github.com/orderapi/orderapi/internal/app"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestTheCheckpointOnlyMovesForward: a relay behind the record, or in an
// epoch an operator moved on from, changes nothing.
func TestTheCheckpointOnlyMovesForward(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := relaystate.New(pgtest.New(t))
	at := func(seq uint64, epoch int64) app.BrokerCheckpoint {
		return app.BrokerCheckpoint{Cursor: app.FeedCursor{TransactionID: 700 + seq, Position: int64(seq)}, EventID: uuid.New(), Sequence: seq, Epoch: epoch}
	}
	// Given nothing recorded
	if st, err := s.Load(ctx, "S"); err != nil || st.Taken || st.Stopped != nil {
		t.Fatalf("a new stream's record: %+v, %v", st, err)
	}
	// When a relay records message 5, then another relay message 3
	five := at(5, 0)
	if ok, err := s.Advance(ctx, "S", five); !ok || err != nil {
		t.Fatalf("the first checkpoint: %v, %v", ok, err)
	}
	if ok, err := s.Advance(ctx, "S", at(3, 0)); ok || err != nil {
		t.Fatalf("a checkpoint behind the record: %v, %v; want refused", ok, err)
	}
	// Then message 5 is recorded
	if st, _ := s.Load(ctx, "S"); !st.Taken || st.Checkpoint != five {
		t.Fatalf("record %+v, want %+v", st.Checkpoint, five)
	}
	// When an operator resumes at message 2, a relay of the old epoch
	// cannot move it, one of the new epoch can
	epoch, err := s.Resume(ctx, "S", at(2, 0))
	if err != nil || epoch != 1 {
		t.Fatalf("resume: epoch %d, %v; want 1", epoch, err)
	}
	if ok, _ := s.Advance(ctx, "S", at(9, 0)); ok {
		t.Fatal("a relay of the old epoch moved the checkpoint")
	}
	if ok, _ := s.Advance(ctx, "S", at(4, 1)); !ok {
		t.Fatal("a relay of the new epoch could not move the checkpoint")
	}
	// and another stream's record is apart; resumed first, its epoch is
	// one past the relay's 0
	if st, _ := s.Load(ctx, "T"); st.Taken {
		t.Errorf("stream T has a checkpoint: %+v", st)
	}
	if epoch, err := s.Resume(ctx, "T", at(0, 0)); err != nil || epoch != 1 {
		t.Errorf("resume of a stream without a record: epoch %d, %v; want 1", epoch, err)
	}
}

// TestTheStopRecordKeepsItsFirstTime: a stop recorded again for the same
// reason keeps the time it began; another reason starts anew; a resume
// or a clear forgets it.
func TestTheStopRecordKeepsItsFirstTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := relaystate.New(pgtest.New(t))
	// Given a stop recorded before any checkpoint
	if err := s.Stop(ctx, "S", app.ProjectionStall{Code: "broker_unreachable", Reason: "no answer"}); err != nil {
		t.Fatal(err)
	}
	first, _ := s.Load(ctx, "S")
	if first.Taken || first.Stopped == nil || first.Stopped.Code != "broker_unreachable" || first.Stopped.EventID != uuid.Nil {
		t.Fatalf("record %+v (%+v)", first, first.Stopped)
	}
	// When it is recorded again, later, in other words
	time.Sleep(20 * time.Millisecond)
	_ = s.Stop(ctx, "S", app.ProjectionStall{Code: "broker_unreachable", Reason: "still no answer"})
	again, _ := s.Load(ctx, "S")
	// Then it keeps its time, with the new words
	if !again.Stopped.Since.Equal(first.Stopped.Since) || again.Stopped.Reason != "still no answer" {
		t.Errorf("again: %+v, want since %s", again.Stopped, first.Stopped.Since)
	}
	// When another reason, before an event, is recorded
	id := uuid.New()
	_ = s.Stop(ctx, "S", app.ProjectionStall{Code: "event_unreadable", EventID: id, Position: 7, Reason: "v9"})
	other, _ := s.Load(ctx, "S")
	if other.Stopped.Since.Equal(first.Stopped.Since) || other.Stopped.EventID != id || other.Stopped.Position != 7 {
		t.Errorf("another reason: %+v", other.Stopped)
	}
	// and the relay goes on, it is forgotten
	if err := s.Clear(ctx, "S"); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Load(ctx, "S"); st.Stopped != nil {
		t.Errorf("cleared, yet %+v", st.Stopped)
	}
	// and so by a resume
	_ = s.Stop(ctx, "S", app.ProjectionStall{Code: "stream_mismatch", Reason: "x"})
	if _, err := s.Resume(ctx, "S", app.BrokerCheckpoint{}); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Load(ctx, "S"); st.Stopped != nil || !st.Taken || st.Checkpoint.Epoch != 1 {
		t.Errorf("resumed: %+v (%+v)", st, st.Stopped)
	}
}
