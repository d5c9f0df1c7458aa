package partition

import "slices"

// PlanInput is what the coordinator knows when it plans.
type PlanInput struct {
	// Table is the table in force.
	Table Table
	// Alive reports whether a member is alive and may hold partitions.
	Alive func(member string) bool
	// Ring is the target for the alive members.
	Ring *Ring
	// InSync reports whether learner member of partition p has applied
	// everything its primary acknowledged (snapshot plus catch-up).
	InSync func(p int, member string) bool
	// MaxLearners bounds the learners being filled at once in the whole
	// table (migrations in flight); 0 means no bound.
	MaxLearners int
}

// Plan returns the steps that move the table toward the ring's target
// while keeping every acknowledged write:
//
//  1. members that are gone are dropped; a dead primary's place goes to the
//     next replica in order (promotion, not recomputation);
//  2. a partition left with no replica is reseeded on its target primary
//     (reported: its data is lost);
//  3. in-sync learners become replicas;
//  4. a target primary that is a full replica becomes primary;
//  5. replicas the target no longer names are dropped, but only once every
//     target member is a full replica (make before break);
//  6. target members that hold nothing become learners, up to MaxLearners.
//
// Applying the steps and planning again converges: with every learner in
// sync, the table reaches the ring's target in a few rounds.
func Plan(in PlanInput) []Step {
	var steps []Step
	learners := 0
	for _, a := range in.Table.Partitions {
		for _, m := range a.Learners {
			if in.Alive(m) {
				learners++
			}
		}
	}
	for p, a := range in.Table.Partitions {
		target := in.Ring.Target(p)
		var reps, lrns []string
		for _, m := range a.Replicas {
			if in.Alive(m) {
				reps = append(reps, m)
			} else {
				steps = append(steps, Step{DropDead, p, m})
			}
		}
		for _, m := range a.Learners {
			if in.Alive(m) {
				lrns = append(lrns, m)
			} else {
				steps = append(steps, Step{DropDead, p, m})
			}
		}
		if len(reps) == 0 && len(target) > 0 {
			steps = append(steps, Step{Reseed, p, target[0]})
			reps = []string{target[0]}
			if i := slices.Index(lrns, target[0]); i >= 0 {
				lrns = slices.Delete(lrns, i, i+1)
				learners--
			}
		}
		for _, m := range lrns {
			if in.InSync(p, m) {
				steps = append(steps, Step{Promote, p, m})
				reps = append(reps, m)
				learners--
			}
		}
		lrns = slices.DeleteFunc(lrns, func(m string) bool { return slices.Contains(reps, m) })
		if len(target) > 0 && reps[0] != target[0] && slices.Contains(reps, target[0]) {
			steps = append(steps, Step{MakePrimary, p, target[0]})
			i := slices.Index(reps, target[0])
			reps = slices.Insert(slices.Delete(reps, i, i+1), 0, target[0])
		}
		complete := true
		for _, m := range target {
			if !slices.Contains(reps, m) {
				complete = false
			}
		}
		if complete {
			for _, m := range reps {
				if !slices.Contains(target, m) && m != reps[0] {
					steps = append(steps, Step{DropReplica, p, m})
				}
			}
		}
		for _, m := range target {
			if slices.Contains(reps, m) || slices.Contains(lrns, m) {
				continue
			}
			if in.MaxLearners > 0 && learners >= in.MaxLearners {
				break
			}
			steps = append(steps, Step{AddLearner, p, m})
			learners++
		}
	}
	return steps
}
