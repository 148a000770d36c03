package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// cpuUse is CPU time spent so far by the server, by PostgreSQL (every
// process named postgres: backends, WAL writer, checkpointer…, and the
// backends that have exited), and by this benchmark, as Linux's scheduler
// counts it. Divided by the
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

// procs are the processes a measurement counts beside PostgreSQL's and
// its own: the server's and the NATS server's, 0 for none.
type procs struct{ server, nats int }

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
		if err == nil {
			c.Database += processCPU(pid) + reapedCPU(pid)
		}
	}
	return c
}

// clockTick is the unit of /proc/PID/stat's times: USER_HZ, 100 on
// every Linux platform Go runs on.
const clockTick = 10 * time.Millisecond

// reapedCPU is the CPU time of a process's children that have exited and
// been waited for (cutime + cstime of /proc/PID/stat): a backend whose
// session ends takes its time with it from the live processes, into the
// postmaster's.
func reapedCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after it. cutime and cstime are fields 16 and 17.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 15 {
		return 0
	}
	var ticks int64
	for _, s := range f[13:15] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick
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
