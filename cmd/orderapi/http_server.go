package main

import (
	"net/http"
	"time"
)

// serverLimits are the bounds net/http puts on each connection, so that
// slow, stalled or oversized requests cannot hold the server's resources.
type serverLimits struct {
	// ReadHeaderTimeout cuts a client that sends its headers too slowly
	// (slowloris): the connection is closed without an answer, but for a
	// request line still incomplete, which net/http answers a plain 400.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading the whole request, body included; a body
	// still arriving then is answered 408 request_timeout.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing the answer. A live feed moves its write
	// deadline forward as it writes: it stays open at will, yet a client
	// that stops reading is dropped.
	WriteTimeout time.Duration
	// IdleTimeout closes a kept-alive connection that sends nothing.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers; net/http answers
	// a request over it with 431 (text/plain) and closes the connection.
	MaxHeaderBytes int
}

// defaultServerLimits are the limits the service runs with.
var defaultServerLimits = serverLimits{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       15 * time.Second,
	WriteTimeout:      30 * time.Second,
	IdleTimeout:       120 * time.Second,
	MaxHeaderBytes:    64 << 10,
}

// newHTTPServer is the service's http.Server for handler, within limits.
func newHTTPServer(handler http.Handler, limits serverLimits) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: limits.ReadHeaderTimeout,
		ReadTimeout:       limits.ReadTimeout,
		WriteTimeout:      limits.WriteTimeout,
		IdleTimeout:       limits.IdleTimeout,
		MaxHeaderBytes:    limits.MaxHeaderBytes,
	}
}
