package main

import (
	"math/rand/v2"
	"runtime"
	"sync/atomic"
)

// population is the set of simulated users: their session ids, the Zipf
// distribution messages arrive with, and a per-user lock so that the
// messages of one user are processed one at a time, as frappe_pywce's
// per-user lock does.
type population struct {
	ids   []string      // session id of each user index
	busy  []atomic.Bool // a message of the user is being processed
	users []int         // user index of each Zipf rank
}

// newPopulation builds the ids of w.Sessions users, each prefix followed by
// the user's WhatsApp number. The Zipf rank of a user is spread over the id
// space by a fixed permutation, so the hot users are not neighbours.
func newPopulation(w *workload, prefix string) *population {
	n := w.Sessions
	p := &population{ids: make([]string, n), busy: make([]atomic.Bool, n), users: make([]int, n)}
	for u := range n {
		p.ids[u] = prefix + msisdnOf(u)
	}
	a := uint64(2654435761) % uint64(n)
	for a == 0 || gcd(a, uint64(n)) != 1 {
		a++
	}
	for r := range n {
		p.users[r] = int((uint64(r)*a + 12345) % uint64(n))
	}
	return p
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// chooser draws users for one client goroutine.
type chooser struct {
	p    *population
	zipf *rand.Zipf
}

func (p *population) chooser(rng *rand.Rand, s float64) *chooser {
	return &chooser{p: p, zipf: rand.NewZipf(rng, s, 1, uint64(len(p.ids)-1))}
}

// next returns a user whose previous message is done, and locks it; the
// caller unlocks it with done. When the drawn user is busy it draws again,
// like a bot worker taking the next queued message instead of waiting.
// redraws counts the busy draws.
func (c *chooser) next() (user, redraws int) {
	for {
		u := c.p.users[c.zipf.Uint64()]
		if c.p.busy[u].CompareAndSwap(false, true) {
			return u, redraws
		}
		redraws++
		if redraws%64 == 0 {
			runtime.Gosched() // every candidate busy: let the owners finish
		}
	}
}

// done unlocks user.
func (p *population) done(user int) { p.busy[user].Store(false) }
