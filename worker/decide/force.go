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

// FreeIDs returns the k lowest ids above above that no node holds and that
// are not reserved: the ids new nodes get (gap filling, as upstream does, kept
// clear of nodes outside the table).
func FreeIDs(nodes []Node, above int, reserved []int, k int) []int {
	d := decider{all: nodes, above: above, reserved: reserved}
	return d.freeIDs(k)
}
