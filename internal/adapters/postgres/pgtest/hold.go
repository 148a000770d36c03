package pgtest

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Hold stops the statements that write the rows on names (a row
// trigger's event, table and condition: "INSERT ON t FOR EACH ROW WHEN
// (…)") in a BEFORE trigger that fires before the table's others (they
// fire in name order), until release is called: for a test that sets two
// transactions against each other at a chosen point. held waits until a
// statement is held and returns its backend's pid. A held statement
// sleeps rather than waits for a lock, so no lock_timeout ends it and no
// deadlock check counts it. One Hold per database.
func Hold(t testing.TB, pool *pgxpool.Pool, on string) (held func() int32, release func()) {
	t.Helper()
	for _, sql := range []string{
		`CREATE TABLE pgtest_released ()`,
		`CREATE FUNCTION pgtest_hold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WHILE NOT EXISTS (SELECT FROM pgtest_released) LOOP
        PERFORM pg_sleep(0.005);
    END LOOP;
    RETURN NEW;
END;
$$`,
		`CREATE TRIGGER a_pgtest_hold BEFORE ` + on + ` EXECUTE FUNCTION pgtest_hold()`,
	} {
		if _, err := pool.Exec(t.Context(), sql); err != nil {
			t.Fatalf("pgtest: hold %s: %v", on, err)
		}
	}
	held = func() int32 {
		t.Helper()
		return waitForBackend(t, pool, "a statement held", `SELECT pid FROM pg_stat_activity
 WHERE datname = current_database() AND wait_event = 'PgSleep'`)
	}
	release = func() {
		t.Helper()
		if _, err := pool.Exec(t.Context(), `INSERT INTO pgtest_released DEFAULT VALUES`); err != nil {
			t.Fatalf("pgtest: release: %v", err)
		}
	}
	return held, release
}

// BlockedBy waits until a backend of the pool's database waits for a lock
// that backend pid holds (or waits for ahead of it), and fails the test
// if none does within a deadline; what names the wait in the failure.
func BlockedBy(t testing.TB, pool *pgxpool.Pool, what string, pid int32) {
	t.Helper()
	waitForBackend(t, pool, what, `SELECT pid FROM pg_stat_activity
 WHERE datname = current_database() AND $1::integer = ANY (pg_blocking_pids(pid))`, pid)
}

// waitForBackend polls until the query answers a backend's pid.
func waitForBackend(t testing.TB, pool *pgxpool.Pool, what, sql string, args ...any) int32 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pid int32
		err := pool.QueryRow(t.Context(), sql+` LIMIT 1`, args...).Scan(&pid)
		if err == nil {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgtest: waiting for %s: %v", what, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
