// The run plan: for each node, run, reuse, skip or not_started, and why.
//
// Selected nodes are decided first, in topological order (a concept step and
// everything selected below it cannot start; the rest run unless cached).
// Then each unselected node is reused when a running node reads its outputs,
// or skipped; an unselected producer that is needed but not stored (or is a
// concept step) makes the selection impossible to run.
#include "mlops/plan.hpp"

#include <iterator>
#include <numeric>
#include <stdexcept>
#include <string>

#include "mlops/errors.hpp"

namespace mlops {

namespace {

// Indexed by the enums; one name per member, checked at compile time.
constexpr const char* kActionNames[] = {"run", "reuse", "skip", "not_started"};
static_assert(std::size(kActionNames) == kActionCount, "an Action without its name");
constexpr const char* kReasonNames[] = {
    "not_stored",        "forced",     "not_cacheable", "cached",
    "outside_selection", "not_needed", "concept",       "upstream_concept"};
static_assert(std::size(kReasonNames) == kReasonCount, "a Reason without its name");

std::size_t check_size(std::size_t size, std::size_t nodes, const char* what) {
  if (size != nodes) {
    throw std::invalid_argument(std::string(what) + " has " + std::to_string(size) +
                                " entries for a graph of " + std::to_string(nodes) + " nodes");
  }
  return size;
}

// The topological order with ties by id. When nodes were declared producers
// first (the usual case) that is just 0, 1, ..., n - 1, which one pass over
// the inputs confirms without the graph's full sort.
std::vector<NodeId> order_of(const Graph& graph) {
  const std::size_t n = graph.node_count();
  for (NodeId v = 0; v < n; ++v) {
    for (DatasetId d : graph.inputs(v)) {
      const NodeId p = graph.producer(d);
      if (p != kNoNode && p > v) return graph.topological_order();
    }
  }
  std::vector<NodeId> order(n);
  std::iota(order.begin(), order.end(), NodeId{0});
  return order;
}

}  // namespace

Plan plan_stored(const Graph& graph, const std::vector<bool>& stored,
                 const std::vector<bool>& cacheable, const Selection& selection, bool force) {
  const Graph::ReadLock hold = graph.read_lock();  // node count and edges of one snapshot
  const std::size_t n = graph.node_count();
  check_size(stored.size(), n, "stored");
  if (!cacheable.empty()) check_size(cacheable.size(), n, "cacheable");
  const std::vector<NodeId> order = order_of(graph);
  std::vector<std::uint8_t> selected(n, 0);
  if (selection.empty()) {
    std::fill(selected.begin(), selected.end(), 1);
  } else {
    for (NodeId v : graph.select(selection)) selected[v] = 1;
  }

  Plan result;
  result.actions.assign(n, Action::skip);
  result.reasons.assign(n, Reason::not_needed);
  // Blocked: a selected concept step, or downstream of one through any path
  // (unselected concept steps block nothing: they only matter if needed).
  std::vector<std::uint8_t> blocked(n, 0);
  for (NodeId v : order) {
    const bool concept_step = graph.is_concept(v);
    bool upstream = false;
    for (DatasetId d : graph.inputs(v)) {
      const NodeId p = graph.producer(d);
      if (p != kNoNode && blocked[p]) upstream = true;
    }
    if (!selected[v]) {
      blocked[v] = upstream ? 1 : 0;
      continue;
    }
    if (concept_step || upstream) {
      blocked[v] = 1;
      result.actions[v] = Action::not_started;
      result.reasons[v] = concept_step ? Reason::concept_step : Reason::upstream_concept;
    } else if (!cacheable.empty() && !cacheable[v]) {
      result.actions[v] = Action::run;
      result.reasons[v] = Reason::not_cacheable;
    } else if (force) {
      result.actions[v] = Action::run;
      result.reasons[v] = Reason::forced;
    } else if (stored[v]) {
      result.actions[v] = Action::reuse;
      result.reasons[v] = Reason::cached;
    } else {
      result.actions[v] = Action::run;
      result.reasons[v] = Reason::not_stored;
    }
  }

  // Unselected producers feeding a running node must come from the store.
  for (NodeId v : order) {
    if (result.actions[v] != Action::run) continue;
    for (DatasetId d : graph.inputs(v)) {
      const NodeId p = graph.producer(d);
      if (p == kNoNode) graph.validate();  // throws MissingInputError
      if (selected[p]) continue;
      if (graph.is_concept(p) || !stored[p]) {
        throw SelectionError("node '" + graph.node_name(v) + "' needs dataset '" +
                             graph.dataset_name(d) + "' from " +
                             (graph.is_concept(p) ? "concept step '" : "node '") +
                             graph.node_name(p) + "', which is outside the selection and " +
                             (graph.is_concept(p) ? "has no code" : "not stored"));
      }
      result.actions[p] = Action::reuse;
      result.reasons[p] = Reason::outside_selection;
    }
  }
  for (NodeId v : order) {
    if (result.actions[v] == Action::run) result.to_run.push_back(v);
  }
  return result;
}

Plan plan(const Graph& graph, const PlanInput& input) {
  const Graph::ReadLock hold = graph.read_lock();  // the size check holds for the plan
  const std::size_t n = check_size(input.node_keys.size(), graph.node_count(), "node_keys");
  std::vector<bool> stored(n, false);
  for (std::size_t v = 0; v < n; ++v) stored[v] = input.stored.contains(input.node_keys[v]);
  return plan_stored(graph, stored, input.cacheable, input.selection, input.force);
}

const char* to_string(Action action) noexcept {
  const auto index = static_cast<std::size_t>(action);
  return index < kActionCount ? kActionNames[index] : "unknown";
}

const char* to_string(Reason reason) noexcept {
  const auto index = static_cast<std::size_t>(reason);
  return index < kReasonCount ? kReasonNames[index] : "unknown";
}

NodeState initial_state(Action action) noexcept {
  switch (action) {
    case Action::run:
      return NodeState::pending;
    case Action::reuse:
      return NodeState::cached;
    case Action::skip:
      return NodeState::excluded;
    case Action::not_started:
      return NodeState::not_started;
    case Action::kCount:
      break;
  }
  return NodeState::pending;  // unreachable: every Action is handled above
}

std::vector<NodeState> initial_states(const Plan& plan) {
  std::vector<NodeState> states;
  states.reserve(plan.actions.size());
  for (const Action action : plan.actions) states.push_back(initial_state(action));
  return states;
}

}  // namespace mlops
