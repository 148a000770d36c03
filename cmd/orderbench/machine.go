package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// machine is what the figures were measured on.
type machine struct {
	CPU        string            `json:"cpu"`
	Cores      int               `json:"cores"`
	MemoryGiB  float64           `json:"memory_gib"`
	Kernel     string            `json:"kernel"`
	Go         string            `json:"go"`
	PostgreSQL string            `json:"postgresql"`
	Settings   map[string]string `json:"postgresql_settings"`
	TLS        bool              `json:"database_tls"`
}

func (m machine) String() string {
	return fmt.Sprintf("machine: %s, %d cores, %.0f GiB, Linux %s, %s, PostgreSQL %s (shared_buffers %s, synchronous_commit %s, database TLS %t)",
		m.CPU, m.Cores, m.MemoryGiB, m.Kernel, m.Go, m.PostgreSQL, m.Settings["shared_buffers"], m.Settings["synchronous_commit"], m.TLS)
}

func describeMachine(ctx context.Context, pool *pgxpool.Pool) (machine, error) {
	m := machine{
		CPU:      firstField("/proc/cpuinfo", "model name"),
		Cores:    runtime.NumCPU(),
		Go:       runtime.Version(),
		Settings: make(map[string]string),
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	var kb float64
	if _, err := fmt.Sscanf(firstField("/proc/meminfo", "MemTotal"), "%f kB", &kb); err == nil {
		m.MemoryGiB = kb / (1 << 20)
	}
	if err := pool.QueryRow(ctx, `SHOW server_version`).Scan(&m.PostgreSQL); err != nil {
		return machine{}, fmt.Errorf("describe the database: %w", err)
	}
	if err := pool.QueryRow(ctx, `SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)`).Scan(&m.TLS); err != nil {
		return machine{}, fmt.Errorf("describe the database: %w", err)
	}
	rows, err := pool.Query(ctx, `
SELECT name, current_setting(name) FROM pg_settings
 WHERE name IN ('shared_buffers', 'synchronous_commit', 'fsync', 'max_connections', 'wal_level', 'work_mem')`)
	if err != nil {
		return machine{}, fmt.Errorf("describe the database: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return machine{}, err
		}
		m.Settings[name] = value
	}
	return m, rows.Err()
}

// firstField returns the value of the first "key: value" line of a /proc
// file with the given key; empty when there is none.
func firstField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
