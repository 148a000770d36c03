// Package redistest gives tests a Redis server to share: the one at
// TEST_REDIS_URL, or at redis://127.0.0.1:6379/0, with a key prefix of
// each test's own, whose keys are deleted when the test ends.
package redistest

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

const defaultURL = "redis://127.0.0.1:6379/0"

// URL is the test server's URL.
func URL() string {
	if url := os.Getenv("TEST_REDIS_URL"); url != "" {
		return url
	}
	return defaultURL
}

// New returns a client of the test server and a key prefix no other test
// uses. Without a server the test is skipped, or fails when CI is set:
// there, nothing may skip.
func New(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opts, err := redis.ParseURL(URL())
	if err != nil {
		t.Fatalf("redistest: TEST_REDIS_URL: %v", err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("redistest: CI is set, so Redis tests may not skip: no server at %s: %v", opts.Addr, err)
		}
		t.Skipf("redistest: no Redis server at %s (set TEST_REDIS_URL): %v", opts.Addr, err)
	}
	prefix := "orderapi-test:" + uuid.NewString() + ":"
	t.Cleanup(func() { deleteKeys(t, client, prefix) })
	return client, prefix
}

// deleteKeys removes every key under prefix.
func deleteKeys(t testing.TB, client *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("redistest: list the test's keys: %v", err)
		return
	}
	if len(keys) > 0 {
		if err := client.Del(ctx, keys...).Err(); err != nil {
			t.Errorf("redistest: delete the test's keys: %v", err)
		}
	}
}

// Down returns the URL of a Redis that cannot be reached, as when the
// server is down: an address on which nothing listens any more.
func Down(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "redis://" + addr
}

// DownClient is a client of Down's Redis, which tries once and fails at
// once.
func DownClient(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(Down(t))
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxRetries, opts.DialerRetries = -1, 1
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	return client
}
