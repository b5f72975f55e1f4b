// The scheduler: one run's state machine over the nodes of a Graph.
//
// It hands out ready nodes (longest remaining path first, then topological
// order), takes outcomes, applies retries and spreads failure. It never calls
// back into Python and never sleeps: the Runner owns the loop and the clock.
// Every public method is safe to call from several threads at once.
//
// Dependencies: a node waits for each parent that runs in this run. A parent
// that is cached or excluded counts as done from the start, because its
// outputs come from the artifact store; a parent that is not_started makes the
// child not_started too. Failure spreads along the same waits: a failed node
// turns every node still waiting on it, directly or through other waiting
// nodes, into upstream_failed; branches that do not wait on it continue.
//
// The Scheduler copies what it needs out of the Graph at construction, so the
// Graph may be changed or destroyed afterwards.
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
  // Not a state: the number of states, last so that a name table missing a
  // new state's name fails to compile (see to_string).
  kCount,
};

bool is_final(NodeState state) noexcept;
// The state's name, what the database stores ("upstream_failed").
const char* to_string(NodeState state) noexcept;
inline constexpr std::size_t kNodeStateCount = static_cast<std::size_t>(NodeState::kCount);

struct SchedulerOptions {
  std::size_t max_concurrency = 0;     // nodes running at once; 0 means no limit
  std::vector<std::uint32_t> retries;  // per node id: extra attempts after a failure; empty means 0
  std::vector<double> costs;           // per node id, for priorities; empty means Graph::cost
};

class Scheduler {
 public:
  // `initial` gives each node's starting state: pending (to run), cached,
  // not_started or excluded. Nodes whose inputs are all done start ready.
  // Throws std::invalid_argument when `initial`, `retries` or `costs` do not
  // have one entry per node or a cost is negative or not finite, and
  // StateError when an initial state is not one of the four above.
  Scheduler(const Graph& graph, std::span<const NodeState> initial, SchedulerOptions options = {});

  // Marks up to `limit` ready nodes running (within max_concurrency) and returns them,
  // highest priority first. Ready and retrying nodes are handed out alike; each
  // hand-out counts as one attempt. Returns nothing once the run is cancelled.
  std::vector<NodeId> take_ready(std::size_t limit = std::numeric_limits<std::size_t>::max());
  // The same, appending to `out` (no allocation once `out` has capacity); returns the count.
  std::size_t take_ready_into(std::vector<NodeId>& out,
                              std::size_t limit = std::numeric_limits<std::size_t>::max());
  void succeed(NodeId node);  // running -> succeeded; children may become ready
  // succeed() for each node in order, then take_ready_into(out, limit), under one lock:
  // the inline runner reports a batch of finished nodes and takes the next batch in one
  // call. Throws StateError at the first node that is not running; the nodes before it
  // are recorded and nothing is taken. Returns the count taken.
  std::size_t succeed_and_take(std::span<const NodeId> nodes, std::vector<NodeId>& out,
                               std::size_t limit = std::numeric_limits<std::size_t>::max());
  // running -> retrying (returns true) while attempts(node) <= retries[node] and
  // the run is not cancelled; otherwise -> failed (returns false) and the nodes
  // waiting on it become upstream_failed.
  bool fail(NodeId node);
  void cancel();  // every not-yet-running node -> cancelled; running ones finish
  bool cancelled() const;

  NodeState state(NodeId node) const;
  std::vector<NodeState> states() const;
  std::uint32_t attempts(NodeId node) const;  // times the node was handed out
  std::size_t running_count() const;
  std::size_t ready_count() const;  // nodes waiting for a slot: ready and retrying
  bool finished() const;            // no node running, ready, retrying or pending

 private:
  // One ready node in the heap. The priority is carried inline (not looked up
  // through the node id) so heap moves stay within the heap's own memory.
  // Topological ranks are unique, so (remaining, rank) orders ready nodes totally.
  struct ReadyEntry {
    double remaining;    // longest remaining path from the node, itself included
    std::uint32_t rank;  // position in the Graph's topological order
  };

  void check_id(NodeId node, const char* call) const;
  void require_running(NodeId node, const char* call) const;
  void succeed_locked(NodeId node);  // succeed() with mutex_ held
  std::size_t take_locked(std::vector<NodeId>& out, std::size_t limit);  // mutex_ held
  void push_ready(NodeId node);
  void spread_failure(NodeId node);

  mutable std::mutex mutex_;
  // Children as CSR: children_[child_begin_[n] .. child_begin_[n + 1]).
  std::vector<std::uint32_t> child_begin_;
  std::vector<NodeId> children_;
  std::vector<NodeId> by_rank_;  // topological order: rank -> node
  std::vector<std::uint32_t> rank_;
  std::vector<double> remaining_;
  std::vector<std::uint32_t> waiting_;  // per pending node: parents not yet done
  std::vector<std::uint32_t> retries_;  // empty when no node may retry
  std::vector<std::uint32_t> attempts_;
  std::vector<NodeState> states_;
  std::vector<ReadyEntry> heap_;  // ready and retrying nodes, a max-heap by priority
  std::vector<NodeId> scratch_;   // reused stack for failure spreading
  std::size_t max_concurrency_;   // 0: no limit
  std::size_t running_ = 0;
  std::size_t active_ = 0;  // nodes pending, ready, running or retrying
  bool cancelled_ = false;
};

}  // namespace mlops
