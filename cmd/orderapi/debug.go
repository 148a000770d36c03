package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"

	"github.com/rs/zerolog"
)

// debugFractions set how often blocking and contended mutexes are
// sampled while the debug listener is on: often enough for a profile to
// show where requests wait, rarely enough not to slow them noticeably.
const (
	debugBlockRate     = 10_000 // one sample per 10µs blocked
	debugMutexFraction = 100
)

// serveDebug serves net/http/pprof's profiles on addr until ctx ends. It
// is off unless ORDERAPI_DEBUG_ADDR is set, and never on the API's
// listener: profiles expose the process's internals. Bind it to loopback
// (127.0.0.1:6060) or a private network.
func serveDebug(addr string, log zerolog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ORDERAPI_DEBUG_ADDR %s: %w", addr, err)
	}
	runtime.SetBlockProfileRate(debugBlockRate)
	runtime.SetMutexProfileFraction(debugMutexFraction)

	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("debug listener failed")
		}
	}()
	log.Info().Str("addr", ln.Addr().String()).Msg("serving profiles")
	return func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		<-done
	}, nil
}
