package pgtest

import (
	"context"
	"os"
	"path/filepath"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// dockerAnswers reports whether a Docker engine answers a ping. It first
// looks for a hint that Docker is configured at all, so the usual machine
// without Docker pays nothing, and bounds the probe itself, since a
// DOCKER_HOST pointing at a dead machine could otherwise hang.
func dockerAnswers() bool {
	if !dockerHinted() {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), dockerWait)
	defer cancel()
	answered := make(chan bool, 1)
	go func() {
		// testcontainers panics on some broken setups; that means no Docker.
		defer func() {
			if recover() != nil {
				answered <- false
			}
		}()
		cli, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err != nil {
			answered <- false
			return
		}
		defer cli.Close()
		_, err = cli.Ping(ctx, client.PingOptions{})
		answered <- err == nil
	}()
	select {
	case ok := <-answered:
		return ok
	case <-ctx.Done():
		return false
	}
}

// dockerHinted reports whether anything points at a Docker engine: the
// settings testcontainers reads, or a socket at a usual place.
func dockerHinted() bool {
	if os.Getenv("DOCKER_HOST") != "" || os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") != "" {
		return true
	}
	paths := []string{"/var/run/docker.sock"}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		paths = append(paths, filepath.Join(dir, "docker.sock"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		paths = append(paths,
			filepath.Join(home, ".testcontainers.properties"),
			filepath.Join(home, ".docker", "run", "docker.sock"),
			filepath.Join(home, ".docker", "desktop", "docker.sock"),
		)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}
