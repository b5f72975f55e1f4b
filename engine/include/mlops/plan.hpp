// The run plan: for each node, what a run does with it (run, reuse, skip,
// not_started), why, and the scheduler state it starts in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "mlops/graph.hpp"
#include "mlops/scheduler.hpp"

namespace mlops {

enum class Action : std::uint8_t {
  run,          // execute the node's function
  reuse,        // take its stored outputs (a cache hit, or needed from outside the selection)
  skip,         // outside the selection and not needed
  not_started,  // a concept step, or downstream of one
  kCount,       // not an action: their number, so name tables are checked at compile time
};

enum class Reason : std::uint8_t {
  not_stored,         // run: no stored outputs under its key (new, or code/params/inputs changed)
  forced,             // run: caching turned off for this run (--no-cache)
  not_cacheable,      // run: the node has cache=False
  cached,             // reuse: selected, and its outputs are stored under its key
  outside_selection,  // reuse: not selected, but a running node needs its outputs
  not_needed,         // skip
  concept_step,  // not_started: a concept step (Python: Reason.concept; "concept" is a C++ keyword)
  upstream_concept,  // not_started: downstream of a concept step
  kCount,            // not a reason: their number, so name tables are checked at compile time
};

inline constexpr std::size_t kActionCount = static_cast<std::size_t>(Action::kCount);
inline constexpr std::size_t kReasonCount = static_cast<std::size_t>(Reason::kCount);
// Names as Python and the records spell them ("concept" for Reason::concept_step).
const char* to_string(Action action) noexcept;
const char* to_string(Reason reason) noexcept;

struct PlanInput {
  std::vector<std::string> node_keys;      // from fingerprint()
  std::unordered_set<std::string> stored;  // keys whose outputs are all in the store
  std::vector<bool> cacheable;             // per node id; empty means all cacheable
  Selection selection;                     // empty: every node
  bool force = false;                      // --no-cache
};

struct Plan {
  std::vector<Action> actions;  // per node id
  std::vector<Reason> reasons;  // per node id
  std::vector<NodeId> to_run;   // nodes with Action::run, topological order
};

// Throws SelectionError when a node that must run needs an output from a node
// outside the selection (or from a concept step) that is not stored, naming
// the node, the dataset and its producer.
Plan plan(const Graph& graph, const PlanInput& input);

// The same rules given, per node id, whether its key is stored (for callers
// holding keys as digests). `cacheable` empty means all cacheable.
Plan plan_stored(const Graph& graph, const std::vector<bool>& stored,
                 const std::vector<bool>& cacheable, const Selection& selection, bool force);

// Where a plan's action starts a node: run -> pending, reuse -> cached,
// skip -> excluded, not_started -> not_started.
NodeState initial_state(Action action) noexcept;
std::vector<NodeState> initial_states(const Plan& plan);

}  // namespace mlops
