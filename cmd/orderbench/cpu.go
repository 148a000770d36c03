package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// cpuUse is CPU time spent so far by the server, by PostgreSQL (the
// postmaster and every process it started: backends, WAL writer,
// checkpointer…), and by this benchmark, as Linux's scheduler counts it.
// Divided by the operations of a window, it says where each operation's
// cost goes: on a machine whose cores are all busy, throughput is what
// CPU per operation allows. Zero where /proc cannot be read (not Linux, or
// PostgreSQL on another machine).
type cpuUse struct {
	Server, Database, Bench, NATS time.Duration
}

func (c cpuUse) sub(d cpuUse) cpuUse {
	return cpuUse{c.Server - d.Server, c.Database - d.Database, c.Bench - d.Bench, c.NATS - d.NATS}
}

// procs are the processes a measurement counts beside its own: the
// server's, the NATS server's and PostgreSQL's postmaster, 0 for none. With
// no postmaster known, every process named postgres counts.
type procs struct{ server, nats, postgres int }

// readCPU reads the CPU time of the processes of ps, of PostgreSQL's
// processes, and of this process.
func readCPU(ps procs) cpuUse {
	var c cpuUse
	if ps.server > 0 {
		c.Server = processCPU(ps.server)
	}
	if ps.nats > 0 {
		c.NATS = processCPU(ps.nats)
	}
	c.Bench = processCPU(os.Getpid())
	c.Database = postgresCPU(ps.postgres)
	return c
}

// postgresCPU is the CPU time of the cluster whose postmaster is pm: its
// own, its live children's, and that of the children it has reaped. A
// backend that ends within a window (a pgbench client disconnecting, a
// pool closing a connection) so still counts, and a process of another
// cluster on the machine never does.
func postgresCPU(pm int) time.Duration {
	if pm == 0 {
		return sumProcesses(func(_ int, st stat) bool { return st.comm == "postgres" })
	}
	return consistentRead(
		func() time.Duration { st, _ := readStat(pm); return st.reaped },
		func() time.Duration {
			return sumProcesses(func(pid int, st stat) bool { return pid == pm || st.ppid == pm })
		})
}

// consistentRead adds the reaped children's CPU to that of the live
// processes, scanned between two reads of the former. A child that the
// postmaster reaps while /proc is being scanned would otherwise be counted
// twice (live, then reaped) or not at all (reaped after the postmaster was
// read, gone before its own entry was), and a window holding such a
// reading could come out negative. So the scan is repeated until no child
// was reaped during it; the few retries a busy cluster needs cost
// milliseconds, and after them the last reading stands.
func consistentRead(reaped, live func() time.Duration) time.Duration {
	var sum time.Duration
	for range 10 {
		before := reaped()
		sum = live()
		after := reaped()
		sum += after
		if after == before {
			break
		}
	}
	return sum
}

// sumProcesses is the CPU time of the processes that count says count.
func sumProcesses(count func(pid int, st stat) bool) time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var sum time.Duration
	for _, p := range stats {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok && count(pid, st) {
			sum += processCPU(pid)
		}
	}
	return sum
}

// stat is what /proc/PID/stat says of a process that a measurement needs.
type stat struct {
	comm string
	ppid int
	// reaped is the CPU time of the children it has waited for.
	reaped time.Duration
}

// clockTick is the unit of /proc/PID/stat's times: USER_HZ, 100 on every
// Linux architecture Go runs on.
const clockTick = 10 * time.Millisecond

func readStat(pid int) (stat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, false
	}
	// pid (comm) state ppid …: comm may hold spaces and parentheses, so
	// the fields are counted from the last ')'.
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return stat{}, false
	}
	f := bytes.Fields(b[end+1:])
	// f[0] is the state (field 3); ppid is field 4, cutime and cstime 16, 17.
	if len(f) < 15 {
		return stat{}, false
	}
	s := stat{comm: string(b[open+1 : end])}
	s.ppid, _ = strconv.Atoi(string(f[1]))
	cu, _ := strconv.ParseInt(string(f[13]), 10, 64)
	cs, _ := strconv.ParseInt(string(f[14]), 10, 64)
	s.reaped = time.Duration(cu+cs) * clockTick
	return s, true
}

// postmasterPID finds the postmaster of the pool's server, on this
// machine: the parent of a backend. 0 when it cannot be seen (PostgreSQL
// elsewhere, or /proc unreadable).
func postmasterPID(ctx context.Context, pool *pgxpool.Pool) int {
	var backend int
	if err := pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		return 0
	}
	st, ok := readStat(backend)
	if !ok || st.comm != "postgres" {
		return 0
	}
	if pm, ok := readStat(st.ppid); !ok || pm.comm != "postgres" {
		return 0
	}
	return st.ppid
}

// processCPU sums the time on CPU of every thread of a process, from
// /proc/PID/task/*/schedstat (nanoseconds, first field).
func processCPU(pid int) time.Duration {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/schedstat")
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		f := bytes.Fields(b)
		if len(f) == 0 {
			continue
		}
		if ns, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
			sum += time.Duration(ns)
		}
	}
	return sum
}
