package decide

import "slices"

// Choose returns the ids of up to count nodes an operator's forced action
// acts on when no node is named, following upstream's choices:
//
//   - "remove": the youngest nodes of any status but REMOVING (their files
//     are already gone);
//   - "stop": the youngest RUNNING nodes;
//   - "start": the oldest STOPPED nodes;
//   - "restart": the oldest RUNNING nodes;
//   - "upgrade": the oldest RUNNING nodes whose version is strictly lower
//     than latest (none when latest is unknown);
//   - "enable": the oldest DISABLED nodes.
//
// Any other action (and a count below 1) chooses nothing: "disable" needs
// names. nodes carry the statuses as they stand after the survey's
// transitions.
func Choose(nodes []Node, action string, count int, latest string) []int {
	if count < 1 {
		return nil
	}
	var (
		keep func(Node) bool
		by   order
	)
	switch action {
	case "remove":
		keep, by = func(n Node) bool { return n.Status != Removing }, youngest
	case "stop":
		keep, by = func(n Node) bool { return n.Status == Running }, youngest
	case "start":
		keep, by = func(n Node) bool { return n.Status == Stopped }, oldest
	case "restart":
		keep, by = func(n Node) bool { return n.Status == Running }, oldest
	case "upgrade":
		l, ok := knownVersion(latest)
		if !ok {
			return nil
		}
		keep = func(n Node) bool {
			v, ok := knownVersion(n.Version)
			return n.Status == Running && ok && v.compare(l) < 0
		}
		by = oldest
	case "enable":
		keep, by = func(n Node) bool { return n.Status == Disabled }, oldest
	default:
		return nil
	}
	var found []Node
	for _, n := range nodes {
		if keep(n) {
			found = append(found, n)
		}
	}
	slices.SortFunc(found, func(a, b Node) int { return by(&a, &b) })
	ids := make([]int, 0, min(count, len(found)))
	for _, n := range found[:min(count, len(found))] {
		ids = append(ids, n.ID)
	}
	return ids
}

// Outdated reports whether version is a known version strictly lower than
// latest (a forced start upgrades such a node before starting it).
func Outdated(version, latest string) bool {
	l, ok := knownVersion(latest)
	if !ok {
		return false
	}
	v, ok := knownVersion(version)
	return ok && v.compare(l) < 0
}

// FreeIDs returns the ids of k new nodes as a cycle chooses them (see
// [Input]): above every node and held id, skipping reserved ones, up to
// maxID when it is positive. Fewer than k when the ids run out.
func FreeIDs(nodes []Node, held, reserved []int, maxID, k int) []int {
	d := decider{all: nodes, held: held, reserved: reserved, maxID: maxID}
	return d.freeIDs(k)
}
