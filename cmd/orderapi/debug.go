package main

import (
	"net/http"
	"net/http/pprof"
	"runtime"

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
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	stop, err = serveAside("ORDERAPI_DEBUG_ADDR", addr, "profiles", mux, log)
	if err != nil {
		return nil, err
	}
	runtime.SetBlockProfileRate(debugBlockRate)
	runtime.SetMutexProfileFraction(debugMutexFraction)
	return stop, nil
}
