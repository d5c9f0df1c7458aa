// Package sessiontest is the conformance suite of the session contract: the
// definition of what a [session.Manager] (and the [session.Store] under it)
// must do, in the way testing/fstest.TestFS defines io/fs and
// x/net/nettest.TestConn defines net.Conn.
//
// A backend is done when
//
//	func TestConformance(t *testing.T) {
//		sessiontest.Run(t, func(t *testing.T, env sessiontest.Env) session.Manager {
//			store, err := memory.New(memory.Config{
//				DefaultIdle:   env.DefaultIdle,
//				Now:           env.Now,
//				SweepInterval: -1,
//			})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return session.NewManager(store, session.Config{})
//		})
//	}
//
// passes under -race. Every rule runs as its own subtest
// (TestConformance/Group/Rule, e.g. TestConformance/Clear/RetainExactNames)
// on a fresh manager, which the suite closes when the subtest ends; select
// rules with -run as usual.
//
// # The factory
//
// newManager is called once per subtest. The manager it returns must start
// empty (no sessions, no globals), use the JSON codec (the default of
// session.NewManager) and the default value limit, and configure its store
// with the [Env] it is given: read time from Env.Now and use Env.DefaultIdle
// as the idle timeout of new sessions. Stores that reclaim expired sessions
// in the background should have that goroutine disabled, since the Sweep
// rules count what an explicit [session.Sweeper.Sweep] removes. Register any
// teardown of your own with t.Cleanup; it runs after the suite has closed
// the manager.
//
// # Time
//
// By default the suite controls time with a fake [Clock] (Env.Now,
// Env.Advance) and an idle timeout of 30 minutes, so expiry rules run in
// microseconds. Backends that cannot take a clock (a real redis-server, a
// remote grid) use [RunWith] with Options.RealClock: the idle timeout is then
// 300 ms in the Expiry and Sweep rules (an hour in the others, so that a slow
// backend does not see sessions expire mid-rule); the suite sleeps only to
// let real time pass a deadline, and polls for the outcome.
//
// Reads may or may not slide the idle timeout (a store option); the rules
// hold either way: a session whose expiry is checked is never read before
// the check.
package sessiontest
