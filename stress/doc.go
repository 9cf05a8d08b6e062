// Package stress holds tests, and no API, that prove what bucketcache
// promises (see the documentation of packages bucket and deferred) under
// load and under faults, and report figures saying what they did.
//
//   - TestLoad runs several child processes (this test binary, run again),
//     each with several goroutines, on one bucket directory, mixing Get, Set,
//     Delete, Contains, Unload, Prune, deferred Sync and Memoize. Every value
//     proves its own integrity (package internal/selfcheck). Keys owned by a
//     single writer give exact checks (read-your-writes, monotonic reads in
//     every other goroutine and process, the final value equal to the last
//     acknowledged write); keys shared by all writers are checked against a
//     history logged with a clock common to all processes: no read returns a
//     value that a completed later write had replaced, and the final value is
//     one some writer wrote last. Memoized functions must run exactly once
//     per argument across all processes.
//   - TestCrash kills writer processes with SIGKILL at random moments during
//     Set, deferred Sync, Memoize and Prune, and checks after each round that
//     every entry file is whole, no acknowledged write is lost, no lock stays
//     held and Prune removes what the dead left behind.
//   - TestDiskFull and TestReadOnly run a bucket on a small tmpfs, full and
//     then read-only (root only; skipped elsewhere).
//   - TestCorruption flips bytes in, truncates, extends, swaps and deletes
//     entry files, alone and while goroutines read and write: every Get
//     returns the right value or ErrNotFound, and Prune and
//     "bucketfs verify -fix" clean up.
//   - TestHostileKeys and TestPlantedSymlinks check that no file outside the
//     bucket directory is ever created, read, changed or deleted, watching
//     the surroundings with inotify.
//   - TestCountersFileDeleted, TestCountersFileZeroed and
//     TestCountersFileTruncated damage the counters file that processes
//     share through mmap, and TestStaleAfterInodeReuse replays the stale
//     read TestLoad once found: no Bucket may serve a replaced value, and
//     no process may crash.
//   - TestHistoryChecker shows that the history check catches stale reads,
//     lost writes and resurrected deletes, so that a clean TestLoad means
//     something.
//
// Environment variables scale the tests up for long runs: STRESS_DURATION
// (load time, default 30s), STRESS_PROCS, STRESS_GOROUTINES, STRESS_KEYS,
// STRESS_KILLS, STRESS_CORRUPTIONS, STRESS_HOSTILE, and STRESS_SEED to replay
// a run (every test logs its seed). STRESS_FIGURES names a file to which the
// figures are appended, one line per test.
package stress
