// Python bindings of the Scheduler and NodeState. Thin: argument conversion only.
//
// No call here releases the GIL. Each call is a few hundred nanoseconds of work,
// less than releasing and re-taking the GIL costs, and none of them can block on
// the GIL while holding the scheduler's mutex (the scheduler never calls back
// into Python), so keeping the GIL cannot deadlock; several Python threads can
// still drive one scheduler, the mutex guards its state.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "mlops/graph.hpp"
#include "mlops/plan.hpp"
#include "mlops/scheduler.hpp"

namespace nb = nanobind;

namespace mlops::bindings {

namespace {

void declare_node_state(nb::module_& m) {
  nb::enum_<NodeState>(m, "NodeState",
                       "A node's state in one run. `state.name` is what the database stores.")
      .value("pending", NodeState::pending, "Waiting for its inputs.")
      .value("ready", NodeState::ready, "Inputs done; waiting for a worker slot.")
      .value("running", NodeState::running, "Handed out by Scheduler.take_ready.")
      .value("succeeded", NodeState::succeeded, "Final: ran and succeeded.")
      .value("cached", NodeState::cached, "Final: outputs reused from the artifact store.")
      .value("failed", NodeState::failed, "Final: failed on its last allowed attempt.")
      .value("retrying", NodeState::retrying, "Failed an attempt; will be handed out again.")
      .value("upstream_failed", NodeState::upstream_failed, "Final: a node it waits on failed.")
      .value("not_started", NodeState::not_started,
             "Final: a concept step or its descendant; never runs in this run.")
      .value("cancelled", NodeState::cancelled, "Final: the run was cancelled before it ran.")
      .value("excluded", NodeState::excluded,
             "Final: outside the run's selection; its outputs come from the store.");
}

}  // namespace

void declare_scheduler(nb::module_& m) {
  declare_node_state(m);

  nb::class_<Scheduler>(
      m, "Scheduler",
      "One run's state machine: hands out ready nodes (longest remaining path first), takes\n"
      "outcomes, applies retries and spreads failure. Thread-safe; never calls Python.\n\n"
      "A node waits for each parent that runs in this run; cached and excluded parents count\n"
      "as done (their outputs come from the store), a not_started parent makes the child\n"
      "not_started.\n\n"
      "Example::\n\n"
      "    s = Scheduler(graph, [NodeState.pending] * graph.node_count)\n"
      "    while not s.finished:\n"
      "        for node in s.take_ready():\n"
      "            s.succeed(node)\n")
      .def(
          "__init__",
          [](Scheduler* self, const Graph& graph, const std::vector<NodeState>& initial,
             std::size_t max_concurrency, std::optional<std::vector<std::uint32_t>> retries,
             std::optional<std::vector<double>> costs) {
            SchedulerOptions options;
            options.max_concurrency = max_concurrency;
            if (retries) options.retries = std::move(*retries);
            if (costs) options.costs = std::move(*costs);
            // nanobind hands over uninitialised storage for the instance.
            std::construct_at(self, graph, initial, std::move(options));
          },
          nb::arg("graph"), nb::arg("initial"), nb::arg("max_concurrency") = 0,
          nb::arg("retries") = nb::none(), nb::arg("costs") = nb::none(),
          "Start a run over `graph`. `initial` has one state per node id: pending (to run),\n"
          "cached, not_started or excluded. `max_concurrency` caps running nodes (0: no cap);\n"
          "`retries` gives extra attempts per node; `costs` (default: the graph's) set\n"
          "priorities. The graph may change afterwards: the scheduler keeps its own copy.\n"
          "Raises ValueError for lists of the wrong length or bad costs, StateError for an\n"
          "initial state other than the four above.")
      .def(
          "__init__",
          [](Scheduler* self, const Graph& graph, const Plan& plan, std::size_t max_concurrency,
             std::optional<std::vector<std::uint32_t>> retries) {
            SchedulerOptions options;
            options.max_concurrency = max_concurrency;
            if (retries) options.retries = std::move(*retries);
            std::construct_at(self, graph, initial_states(plan), std::move(options));
          },
          nb::arg("graph"), nb::arg("plan"), nb::arg("max_concurrency") = 0,
          nb::arg("retries") = nb::none(),
          "Start a run of `plan` (from engine.plan): each node starts where its action puts\n"
          "it (Plan.initial_state_names), with no state object per node crossing over.")
      .def(
          "take_ready",
          [](Scheduler& self, std::int64_t limit) {
            return self.take_ready(limit < 0 ? std::numeric_limits<std::size_t>::max()
                                             : static_cast<std::size_t>(limit));
          },
          nb::arg("limit") = -1,
          "Mark up to `limit` ready nodes running (all when negative), within max_concurrency,\n"
          "and return their ids, highest priority first. Each hand-out is one attempt.\n"
          "Returns [] after cancel().")
      .def("succeed", &Scheduler::succeed, nb::arg("id"),
           "Record that running node `id` succeeded; nodes waiting only on it become ready.\n"
           "Raises StateError when the node is not running or does not exist.")
      .def(
          "succeed_and_take",
          [](Scheduler& self, const std::vector<NodeId>& ids, std::int64_t limit) {
            std::vector<NodeId> out;
            self.succeed_and_take(ids, out,
                                  limit < 0 ? std::numeric_limits<std::size_t>::max()
                                            : static_cast<std::size_t>(limit));
            return out;
          },
          nb::arg("ids"), nb::arg("limit") = -1,
          "succeed(id) for each of `ids` in order, then take_ready(limit), in one call (the\n"
          "inline runner's loop: one engine call per batch instead of one per node).\n"
          "Raises StateError at the first id that is not running (or does not exist); the\n"
          "ids before it are recorded and nothing is taken.")
      .def("fail", &Scheduler::fail, nb::arg("id"),
           "Record that running node `id` failed. Returns True when it will be retried\n"
           "(attempts <= its retries and the run is not cancelled); otherwise it is failed and\n"
           "every node waiting on it becomes upstream_failed. Raises StateError when the node\n"
           "is not running or does not exist.")
      .def("cancel", &Scheduler::cancel,
           "Cancel the run: pending, ready and retrying nodes become cancelled; running nodes\n"
           "finish normally (a failure is then final, with no retry).")
      .def_prop_ro("cancelled", &Scheduler::cancelled, "Whether cancel() was called.")
      .def_prop_ro("running_count", &Scheduler::running_count, "Nodes running now.")
      .def_prop_ro("ready_count", &Scheduler::ready_count,
                   "Nodes waiting for a worker slot (ready or retrying).")
      .def_prop_ro("finished", &Scheduler::finished,
                   "True when no node is pending, ready, running or retrying.")
      .def("state", &Scheduler::state, nb::arg("id"),
           "The state of node `id`; StateError if there is no such node.")
      .def("states", &Scheduler::states, "Every node's state, indexed by node id.")
      .def(
          "state_names",
          [](const Scheduler& self) {
            return names_list(self.states(), kNodeStateCount,
                              [](NodeState s) { return to_string(s); });
          },
          "Every node's state name, indexed by node id (one shared str per state).")
      .def("attempts", &Scheduler::attempts, nb::arg("id"),
           "How many times node `id` was handed out; StateError if there is no such node.");
}

}  // namespace mlops::bindings
