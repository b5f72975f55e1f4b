// The scheduler: one run's state machine over the nodes of a Graph.
//
// It hands out ready nodes (longest remaining path first, then topological
// order), takes outcomes, applies retries and spreads failure. It never calls
// back into Python and never sleeps: the Runner owns the loop and the clock.
// Every public method is safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <limits>
#include <mutex>
#include <span>
#include <vector>

#include "mlops/graph.hpp"

namespace mlops {

enum class NodeState : std::uint8_t {
  pending,          // waiting for inputs
  ready,            // inputs done, waiting for a worker slot
  running,          // handed out by take_ready
  succeeded,        // final
  cached,           // final: outputs reused from the store
  failed,           // final: out of attempts
  retrying,         // failed an attempt; queued to be handed out again
  upstream_failed,  // final: an ancestor failed
  not_started,      // final: a concept step or its descendant, never to run in this run
  cancelled,        // final: the run was cancelled before it ran
  excluded,         // final: outside this run's selection
};

bool is_final(NodeState state) noexcept;
const char* to_string(NodeState state) noexcept;

struct SchedulerOptions {
  std::size_t max_concurrency = 0;  // nodes running at once; 0 means no limit
  std::vector<std::uint32_t> retries;  // per node id: extra attempts after a failure; empty means 0
  std::vector<double> costs;           // per node id, for priorities; empty means Graph::cost
};

class Scheduler {
 public:
  // `initial` gives each node's starting state: pending (to run), cached,
  // not_started or excluded. Nodes whose inputs are all done start ready.
  Scheduler(const Graph& graph, std::span<const NodeState> initial, SchedulerOptions options = {});

  // Marks up to `limit` ready nodes running (within max_concurrency) and returns them.
  std::vector<NodeId> take_ready(std::size_t limit = std::numeric_limits<std::size_t>::max());
  void succeed(NodeId node);  // running -> succeeded; children may become ready
  bool fail(NodeId node);     // running -> retrying (returns true) or failed (false)
  void cancel();              // every not-yet-running node -> cancelled; running ones finish
  bool cancelled() const;

  NodeState state(NodeId node) const;
  std::vector<NodeState> states() const;
  std::uint32_t attempts(NodeId node) const;  // times the node was handed out
  std::size_t running_count() const;
  std::size_t ready_count() const;
  bool finished() const;  // no node running, ready, retrying or pending

  // ... private members chosen by the implementation (mutex, CSR children,
  // pending-input counters, a priority heap of ready nodes).
};

}  // namespace mlops
