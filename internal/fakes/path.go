package fakes

import "github.com/uprinfo/presession"

// PathTo lists the fewest moves the lifecycle allows that bring a new
// (uploading) statement to status st, for fixtures that walk a statement
// there; nil for uploading or an unknown status.
func PathTo(st presession.Status) []presession.Status {
	paths := map[presession.Status][]presession.Status{presession.StatusUploading: nil}
	queue := []presession.Status{presession.StatusUploading}
	for len(queue) > 0 {
		from := queue[0]
		queue = queue[1:]
		for _, to := range presession.Statuses {
			if _, seen := paths[to]; seen || !from.CanTransition(to) {
				continue
			}
			paths[to] = append(append([]presession.Status{}, paths[from]...), to)
			queue = append(queue, to)
		}
	}
	return paths[st]
}
