package main

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// cpuUse is CPU time spent so far by the server, by PostgreSQL (every
// process named postgres: backends, WAL writer, checkpointer…), and by
// this benchmark, as Linux's scheduler counts it. Divided by the
// operations of a window, it says where each operation's cost goes: on a
// machine whose cores are all busy, throughput is what CPU per operation
// allows. Zero where /proc cannot be read (not Linux, or PostgreSQL on
// another machine).
type cpuUse struct {
	Server, Database, Bench, NATS time.Duration
}

func (c cpuUse) sub(d cpuUse) cpuUse {
	return cpuUse{c.Server - d.Server, c.Database - d.Database, c.Bench - d.Bench, c.NATS - d.NATS}
}

// procs are the processes a measurement counts beside its own: the
// server's and the NATS server's, 0 for none; and the postmaster of the
// PostgreSQL server the benchmark uses, whose processes are PostgreSQL's
// (0: every process named postgres), so that another cluster on the
// machine, busy with work of its own, is not counted.
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
	procs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, p := range procs {
		comm, err := os.ReadFile(p)
		if err != nil || string(bytes.TrimSpace(comm)) != "postgres" {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err == nil && (ps.postgres == 0 || pid == ps.postgres || parentPID(pid) == ps.postgres) {
			c.Database += processCPU(pid)
		}
	}
	return c
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

// parentPID is a process's parent's pid, from /proc/PID/stat; 0 if it
// cannot be read.
func parentPID(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// pid (comm) state ppid …; comm may hold spaces and parentheses.
	f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(string(f[1]))
	return ppid
}

// postmasterOf is the pid of the PostgreSQL server of dbURL when it runs
// on this machine: the process named postgres listening on the URL's
// port on a loopback address. 0 otherwise: then every process named
// postgres is counted.
func postmasterOf(dbURL string) int {
	u, err := url.Parse(dbURL)
	if err != nil {
		return 0
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
	default:
		return 0
	}
	port := 5432
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return 0
		}
	}
	pid := listenerPID(port)
	if pid == 0 {
		return 0
	}
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil || string(bytes.TrimSpace(comm)) != "postgres" {
		return 0
	}
	return pid
}
