package main

import (
	"bufio"
	"context"
	"embed"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pgbenchScripts are ../shared/bench's floor scripts, as they are: run by
// PostgreSQL's own pgbench, they are the floor itself, with a client in C
// that costs little.
//
//go:embed pgbench/*.sql
var pgbenchScripts embed.FS

// pgbenchScript is the script of each floor pgbench runs.
var pgbenchScript = map[string]func() (string, error){
	floorCommandName: func() (string, error) { return readScript("floor-command.sql") },
	// The same transaction in one pipeline, as
	// ../shared/bench/floor-command-pipelined.sql sends it.
	floorPipelinedName: func() (string, error) {
		s, err := readScript("floor-command.sql")
		s = strings.Replace(s, "\nBEGIN;\n", "\n\\startpipeline\nBEGIN;\n", 1)
		return strings.Replace(s, "\nCOMMIT;\n", "\nCOMMIT;\n\\endpipeline\n", 1), err
	},
	floorReadName: func() (string, error) { return readScript("floor-read.sql") },
}

func readScript(name string) (string, error) {
	b, err := pgbenchScripts.ReadFile("pgbench/" + name)
	return string(b), err
}

// pgbenchRun is one floor measured by pgbench -M prepared: the script,
// the database (a URL pgbench's libpq reads as its dbname) and the run
// number that keeps the streams a command floor writes apart from every
// earlier run's.
type pgbenchRun struct {
	bin, dir, dbURL string
	floor           string
	run             int64
}

// measurePgbench runs pgbench for the warm-up and the window at the given
// concurrency and measures as measure does: the transactions that start
// after the warm-up and end within the window (from pgbench's
// per-transaction log), their latencies, and CPU over the window, the
// load's being pgbench's.
func measurePgbench(ctx context.Context, r pgbenchRun, clients int, p phase, ps procs) (sample, error) {
	script, err := pgbenchScript[r.floor]()
	if err != nil {
		return sample{}, err
	}
	dir, err := os.MkdirTemp(r.dir, "pgbench-")
	if err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(dir)
	scriptPath := filepath.Join(dir, "floor.sql")
	if err := os.WriteFile(scriptPath, []byte(script), 0o644); err != nil {
		return sample{}, err
	}
	// pgbench counts whole seconds from when its clients have connected,
	// within the warm-up: a second more makes sure it outlasts the window.
	secs := int(math.Ceil((p.Warmup + p.Window).Seconds())) + 1
	cmd := exec.CommandContext(ctx, r.bin, "-n", "-M", "prepared",
		"-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, runtime.NumCPU())), "-T", strconv.Itoa(secs),
		"-l", "--log-prefix="+filepath.Join(dir, "log"),
		"-D", "n=0", "-D", "run="+strconv.FormatInt(r.run, 10), "-D", "payload="+floorPayload, "-D", "meta="+floorMeta,
		"-f", scriptPath, connURL(r.dbURL))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, fmt.Errorf("start %s: %w", r.bin, err)
	}
	from, until := start.Add(p.Warmup), start.Add(p.Warmup+p.Window)
	ps.server = cmd.Process.Pid // the load: pgbench
	time.Sleep(time.Until(from))
	before := readCPU(ps)
	time.Sleep(time.Until(until))
	cpu := readCPU(ps).sub(before)
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return sample{}, ctx.Err()
		}
		return sample{}, fmt.Errorf("%s: %w\n%s", r.bin, err, lastLines(out.String(), 10))
	}
	lat, err := pgbenchLatencies(dir, from, until)
	if err != nil {
		return sample{}, err
	}
	slices.Sort(lat)
	s := sample{Ops: len(lat), OpsPerS: float64(len(lat)) / p.Window.Seconds(), P50: percentile(lat, 0.50), P99: percentile(lat, 0.99)}
	if s.Ops == 0 {
		return s, fmt.Errorf("%s counted no transaction in the window\n%s", r.bin, lastLines(out.String(), 10))
	}
	n := time.Duration(s.Ops)
	s.DatabaseCPU, s.BenchCPU = cpu.Database/n, cpu.Server/n
	return s, nil
}

// pgbenchLatencies reads pgbench's per-transaction logs (one file per
// thread: client, transaction, latency in µs, script, end time in s and
// µs) and returns the latencies of the transactions that started at or
// after from and ended by until.
func pgbenchLatencies(dir string, from, until time.Time) ([]time.Duration, error) {
	files, err := filepath.Glob(filepath.Join(dir, "log.*"))
	if err != nil || len(files) == 0 {
		return nil, errors.Join(err, fmt.Errorf("pgbench wrote no log in %s", dir))
	}
	var lat []time.Duration
	for _, f := range files {
		file, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 6 {
				continue
			}
			us, err1 := strconv.ParseInt(fs[2], 10, 64)
			sec, err2 := strconv.ParseInt(fs[4], 10, 64)
			usec, err3 := strconv.ParseInt(fs[5], 10, 64)
			if err := errors.Join(err1, err2, err3); err != nil {
				continue // a failed transaction's line: no latency
			}
			d := time.Duration(us) * time.Microsecond
			end := time.Unix(sec, usec*1000)
			if !end.Add(-d).Before(from) && !end.After(until) {
				lat = append(lat, d)
			}
		}
		file.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return lat, nil
}

// findPgbench is the pgbench to run: the one named, the one of the
// server's major version in Debian's layout, or the one on PATH.
func findPgbench(named, serverVersion string) string {
	if named != "" {
		return named
	}
	major, _, _ := strings.Cut(serverVersion, ".")
	major, _, _ = strings.Cut(major, " ")
	if p := filepath.Join("/usr/lib/postgresql", major, "bin", "pgbench"); major != "" && isExecutable(p) {
		return p
	}
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
