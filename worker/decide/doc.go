// Package decide is wnm's decision engine: [Next] turns one cycle's stored
// state, survey observation, configuration and clock reading into a [Plan]
// (the status every node should be recorded with, and the ordered actions to
// run).
//
// The package owns the domain types shared by the worker stages ([Status],
// [Config], [Host], [Node], [Plan], [Action], [Kind]). It must stay a pure
// function of its input: it imports only the standard library, takes no
// context, does no I/O, never reads the clock (time arrives as [Input.Now])
// and is deterministic. Every policy "if" of the worker lives here; the
// executor only carries out a plan.
//
// # Rules
//
// [Next] follows the planning order of the upstream Python manager (the first
// rule that yields actions wins), with the fixes of its known bugs:
//
//  1. Transitions. DISABLED and DEAD nodes never change. An observed node
//     whose root directory is missing becomes DEAD (a REMOVING node stays
//     REMOVING: its files are expected to be gone). RESTARTING and UPGRADING
//     nodes keep their status until delay_start or delay_upgrade has passed since
//     [Node.Changed], then follow the observation (RUNNING if the metrics
//     endpoint answered, else STOPPED). RUNNING and STOPPED follow the
//     observation, and so does a node with an unknown status string. MIGRATING
//     nodes stay. A REMOVING node whose delay_remove has passed gets a
//     [Forget] action (which comes first in the plan). Nodes the survey
//     could not observe keep their status. A delay "has passed" when
//     Now ≥ Changed + delay; a zero or future Changed counts as passed, so a
//     clock step back cannot freeze a node. [Counts] are computed after
//     these transitions and forgets.
//  2. Reboot. When the host booted more than [RebootTolerance] after
//     [Config.LastBoot], the plan is a single [Resurvey]; RESTARTING and
//     UPGRADING nodes ignore their delays (the reboot killed whatever they
//     were waiting for). A zero LastBoot or a zero [Host.Boot] means "unknown"
//     and never counts as a reboot; [Plan.RecordBoot] then asks the worker to
//     record the current boot time so that the next cycle can compare.
//     REMOVING rows keep their cooldown (they are forgotten on a later
//     cycle), since the reboot plan holds nothing but the Resurvey.
//  3. Dead nodes. One [Remove] per DEAD node (priority 90), ignoring every
//     concurrency limit.
//  4. Global capacity. When upgrading + restarting + removing nodes reach
//     max_concurrent_operations, the plan is a [Survey] "at global capacity".
//  5. Resource pressure (see [Features]). Hard removal removes the youngest
//     stopped, then the youngest running nodes; soft pressure stops the
//     youngest running nodes, but not while a node is REMOVING and not within
//     delay_remove of the last stop (a cooldown, so that one cycle's load
//     spike does not stop several nodes in a row). Both are limited to
//     min(max_concurrent_removals − removing, max_concurrent_operations −
//     operations); when nothing can be done the later rules are tried.
//  6. Upgrades. Only RUNNING nodes whose version is strictly lower than
//     [Input.Latest] (see [CompareVersions]) are upgraded, oldest first. A node
//     version or a Latest that is empty, unparsable or all zeros ("0", which
//     upstream stores when "antnode --version" fails) is unknown and never
//     triggers an upgrade: upgrading a node of unknown version could
//     downgrade it, and the survey fills the version in on a later cycle.
//     Outdated STOPPED, DISABLED and other nodes do not count, so they never
//     block growth; an outdated STOPPED node's [Start] carries the version
//     to install before it starts.
//  7. Growth. With no transitional operation in progress, no pressure (a
//     guard upstream lacks) and every resource allowing it, STOPPED nodes are
//     started (oldest first) while running < node_cap, then new nodes are
//     added while total < node_cap, all within min(max_concurrent_starts −
//     restarting, max_concurrent_operations − operations). New ids are not
//     gap-filled as upstream does: a new node's id is above every row's id
//     (rows forgotten in the same plan included, so that a failed Forget
//     cannot collide with a new node) and every [Input.Held] id (units,
//     plists and node directories without a row), and is not an
//     [Input.Reserved] id (one whose node, metrics or RPC port something
//     already holds). So no id, and no port derived from it, is ever doubled
//     with a node wnm does not track, and a removed node's leftovers (a
//     secret key, logs) never pass to a new node. Only when the ids above
//     run out at [Input.MaxID] (the last id whose ports are valid) are the
//     lowest ids that no row, held or reserved id takes filled in; when
//     none is left, nothing is added.
//  8. Otherwise a [Survey] "idle monitoring".
//
// # Unknown readings
//
// A host figure the survey failed to read is an unknown [Reading]. Unknown
// figures neither allow growth nor force removal: every "allow" feature that
// depends on an unknown figure is false, and every "remove" feature that
// depends only on unknown figures is false. A known figure still forces
// removal on its own.
//
// # Priorities
//
// Action priorities follow upstream: resurvey 100, dead node removal 90,
// removal of a stopped node 80, of a running node 75, stop 70, upgrade 60,
// start 50, add 40, survey 0. [Forget] (upstream deletes expired REMOVING rows
// before planning, without an action) has priority 95.
package decide
