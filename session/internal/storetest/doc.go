// Package storetest holds the tests shared by the session backends. For the
// durable ones (session/file, session/bolt): a model test against the
// in-memory reference, a crash test that SIGKILLs a writer process, a
// second-process lock test, store checks and benchmarks. For every backend
// (cache and redis too): concurrent writers of one session, parallel Get
// and Save benchmarks over small sessions, the fake clock and the test
// logger. Each backend keeps a few lines that call them with its
// own opener:
//
//	func TestAgainstMemory(t *testing.T) {
//		storetest.RunModel(t, 4, func(t *testing.T, now func() time.Time, touch bool) func() storetest.Store {
//			dir := t.TempDir()
//			return func() storetest.Store { return open(t, dir, ...) }
//		})
//	}
//
// The tests that re-execute the test binary (RunCrash, RunSecondProcess)
// need the backend's package to have the child test functions too
// (TestCrashChild calling CrashChild, TestLockChild calling LockChild).
//
// The conformance suite of the contract is package sessiontest; this package
// covers what only a store that survives a restart must do.
package storetest
