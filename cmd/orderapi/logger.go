package main

import (
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"
)

func newLogger(cfg config, w io.Writer) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("LOG_LEVEL %q: %w", cfg.LogLevel, err)
	}
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), nil
}
