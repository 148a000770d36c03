package standby_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/standby"
	"github.com/rs/zerolog"
)

// TestStandbyOutOfRotationSaysWhy: a standby that never comes into
// rotation is logged as out, with why, once, at warn, and its stats say
// why: another database of the primary's standby, and a server that does
// not answer.
func TestStandbyOutOfRotationSaysWhy(t *testing.T) {
	t.Parallel()
	// Given a router whose standbys are another database of the standby
	// cluster, and a port nothing listens on
	primary, sc := pgtest.NewReplicated(t, "orderapi")
	var (
		mu  sync.Mutex
		buf bytes.Buffer
	)
	log := zerolog.New(&lockedWriter{&mu, &buf})
	nowhere := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/orderapi?sslmode=disable", pgtest.FreePort(t))
	store := func(url string) *eventstore.Store {
		return eventstore.New(openStandbyPool(t, url), eventstore.Config{})
	}
	router, err := standby.New(eventstore.New(openPool(t, primary.URL("orderapi")), eventstore.Config{}), standby.Config{
		CheckEvery: checkEvery, Log: log,
		Standbys: []standby.Standby{
			{Name: "other-database", Store: store(sc.URL("postgres"))},
			{Name: "nothing-there", Store: store(nowhere)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	// When it has checked each a few times
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = router.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for i, want := range []string{"not a standby of the primary's database", "unreachable: cannot connect: connection refused"} {
		for deadline := time.Now().Add(settle); router.Stats().Standbys[i].Checks < 3; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("standby %d not checked 3 times: %+v", i, router.Stats().Standbys[i])
			}
		}
		// Then each is out, and says why
		if st := router.Stats().Standbys[i]; st.InRotation || !strings.Contains(st.Reason, want) {
			t.Errorf("standby %+v: want it out of rotation, as %q", st, want)
		}
		// And never by its address: standbys are shown by name only
		if st := router.Stats().Standbys[i]; strings.Contains(st.Reason, "127.0.0.1") || strings.Contains(st.Reason, "user=") {
			t.Errorf("standby %d's reason shows where it is: %q", i, st.Reason)
		}
	}
	// And the log says so once for each, at warn, and never where it is
	mu.Lock()
	defer mu.Unlock()
	if u := nowhere[strings.Index(nowhere, "@")+1 : strings.LastIndex(nowhere, "/")]; strings.Contains(buf.String(), u) {
		t.Errorf("the log shows a standby's address %s:\n%s", u, buf.String())
	}
	for _, name := range []string{"other-database", "nothing-there"} {
		n := 0
		for line := range strings.Lines(buf.String()) {
			if strings.Contains(line, `"standby":"`+name+`"`) && strings.Contains(line, `"level":"warn"`) && strings.Contains(line, "out of rotation") &&
				strings.Contains(line, `"lag_seconds":`) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d warnings that it is out of rotation, want 1:\n%s", name, n, buf.String())
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
