// The scheduler's state machine. Everything after construction is O(1) or
// O(log ready) per transition plus the edges touched, under one mutex: the
// critical sections are a few hundred nanoseconds, so a finer scheme would
// cost more in bookkeeping than it saves in contention.
#include "mlops/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <stdexcept>
#include <string>

#include "mlops/errors.hpp"

namespace mlops {

namespace {

// Heap order: the larger remaining path first, then the earlier topological rank.
struct LowerPriority {
  template <class Entry>
  bool operator()(const Entry& a, const Entry& b) const noexcept {
    if (a.remaining != b.remaining) return a.remaining < b.remaining;
    return a.rank > b.rank;
  }
};

std::string count_mismatch(const char* what, std::size_t given, std::size_t nodes) {
  return std::string("Scheduler: ") + what + " has " + std::to_string(given) +
         " entries, the graph has " + std::to_string(nodes) + " nodes";
}

}  // namespace

bool is_final(NodeState state) noexcept {
  switch (state) {
    case NodeState::pending:
    case NodeState::ready:
    case NodeState::running:
    case NodeState::retrying:
      return false;
    case NodeState::succeeded:
    case NodeState::cached:
    case NodeState::failed:
    case NodeState::upstream_failed:
    case NodeState::not_started:
    case NodeState::cancelled:
    case NodeState::excluded:
      return true;
    case NodeState::kCount:
      break;
  }
  return false;
}

// Indexed by NodeState; one name per state, checked at compile time.
constexpr const char* kStateNames[] = {
    "pending",  "ready",           "running",     "succeeded", "cached",   "failed",
    "retrying", "upstream_failed", "not_started", "cancelled", "excluded",
};
static_assert(std::size(kStateNames) == kNodeStateCount, "a NodeState without its name");

const char* to_string(NodeState state) noexcept {
  const auto index = static_cast<std::size_t>(state);
  return index < kNodeStateCount ? kStateNames[index] : "unknown";
}

Scheduler::Scheduler(const Graph& graph, std::span<const NodeState> initial,
                     SchedulerOptions options)
    : retries_(std::move(options.retries)), max_concurrency_(options.max_concurrency) {
  // Everything is copied out of one snapshot: nodes added later are not this run's.
  const Graph::ReadLock hold = graph.read_lock();
  const std::size_t n = graph.node_count();
  if (initial.size() != n)
    throw std::invalid_argument(count_mismatch("initial", initial.size(), n));
  if (!retries_.empty() && retries_.size() != n) {
    throw std::invalid_argument(count_mismatch("retries", retries_.size(), n));
  }
  if (std::all_of(retries_.begin(), retries_.end(), [](std::uint32_t r) { return r == 0; })) {
    retries_.clear();  // lets fail() skip the lookup
  }
  std::vector<double> costs = std::move(options.costs);
  if (costs.empty()) {
    costs.resize(n);
    for (NodeId id = 0; id < n; ++id) costs[id] = graph.cost(id);
  } else if (costs.size() != n) {
    throw std::invalid_argument(count_mismatch("costs", costs.size(), n));
  }
  for (NodeId id = 0; id < n; ++id) {
    if (!std::isfinite(costs[id]) || costs[id] < 0) {
      throw std::invalid_argument("Scheduler: cost of node " + std::to_string(id) + " is " +
                                  std::to_string(costs[id]) + "; costs must be finite and >= 0");
    }
  }

  states_.assign(initial.begin(), initial.end());
  for (NodeId id = 0; id < n; ++id) {
    const NodeState s = states_[id];
    if (s != NodeState::pending && s != NodeState::cached && s != NodeState::not_started &&
        s != NodeState::excluded) {
      throw StateError("Scheduler: node " + std::to_string(id) + " starts " + to_string(s) +
                       "; a node starts pending, cached, not_started or excluded");
    }
  }

  // Children through datasets, read from the Graph's spans without building a
  // vector per node. A child reading several outputs of one parent is listed
  // once: `last_parent` remembers the parent that last listed it.
  child_begin_.resize(n + 1);
  std::vector<NodeId> last_parent(n, kNoNode);
  children_.reserve(graph.edge_count());
  for (NodeId id = 0; id < n; ++id) {
    child_begin_[id] = static_cast<std::uint32_t>(children_.size());
    for (DatasetId dataset : graph.outputs(id)) {
      for (NodeId child : graph.consumers(dataset)) {
        if (last_parent[child] == id) continue;
        last_parent[child] = id;
        children_.push_back(child);
      }
    }
  }
  child_begin_[n] = static_cast<std::uint32_t>(children_.size());

  by_rank_ = graph.topological_order();
  rank_.resize(n);
  for (std::uint32_t r = 0; r < n; ++r) rank_[by_rank_[r]] = r;
  remaining_ = graph.remaining_path(costs);

  // In topological order a node's state is settled before its children look at
  // it, so not_started travels down whole chains in one pass.
  waiting_.assign(n, 0);
  for (NodeId node : by_rank_) {
    const NodeState s = states_[node];
    for (std::uint32_t e = child_begin_[node]; e < child_begin_[node + 1]; ++e) {
      const NodeId child = children_[e];
      if (states_[child] != NodeState::pending) continue;
      if (s == NodeState::not_started) {
        states_[child] = NodeState::not_started;
      } else if (s == NodeState::pending) {
        ++waiting_[child];
      }
    }
  }
  attempts_.assign(n, 0);
  for (NodeId id = 0; id < n; ++id) {
    if (states_[id] != NodeState::pending) continue;
    ++active_;
    if (waiting_[id] == 0) {
      states_[id] = NodeState::ready;
      heap_.push_back({remaining_[id], rank_[id]});
    }
  }
  std::make_heap(heap_.begin(), heap_.end(), LowerPriority{});
}

std::vector<NodeId> Scheduler::take_ready(std::size_t limit) {
  std::vector<NodeId> out;
  take_ready_into(out, limit);
  return out;
}

std::size_t Scheduler::take_ready_into(std::vector<NodeId>& out, std::size_t limit) {
  const std::lock_guard lock(mutex_);
  return take_locked(out, limit);
}

std::size_t Scheduler::take_locked(std::vector<NodeId>& out, std::size_t limit) {
  if (cancelled_) return 0;
  std::size_t count = std::min(limit, heap_.size());
  if (max_concurrency_ != 0) count = std::min(count, max_concurrency_ - running_);
  out.reserve(out.size() + count);
  if (count == heap_.size() && count > 1) {
    // Taking every ready node (the inline loop does): one sort into the order the
    // pops would give (ranks are unique, so there are no ties), not a pop each.
    std::sort(heap_.begin(), heap_.end(),
              [](const ReadyEntry& a, const ReadyEntry& b) { return LowerPriority{}(b, a); });
    for (const ReadyEntry& entry : heap_) {
      const NodeId node = by_rank_[entry.rank];
      states_[node] = NodeState::running;
      ++attempts_[node];
      out.push_back(node);
    }
    heap_.clear();
    running_ += count;
    return count;
  }
  for (std::size_t i = 0; i < count; ++i) {
    std::pop_heap(heap_.begin(), heap_.end(), LowerPriority{});
    const NodeId node = by_rank_[heap_.back().rank];
    heap_.pop_back();
    states_[node] = NodeState::running;
    ++attempts_[node];
    out.push_back(node);
  }
  running_ += count;
  return count;
}

void Scheduler::succeed(NodeId node) {
  const std::lock_guard lock(mutex_);
  succeed_locked(node);
}

std::size_t Scheduler::succeed_and_take(std::span<const NodeId> nodes, std::vector<NodeId>& out,
                                        std::size_t limit) {
  const std::lock_guard lock(mutex_);
  for (const NodeId node : nodes) succeed_locked(node);
  return take_locked(out, limit);
}

void Scheduler::succeed_locked(NodeId node) {
  require_running(node, "succeed");
  states_[node] = NodeState::succeeded;
  --running_;
  --active_;
  for (std::uint32_t e = child_begin_[node]; e < child_begin_[node + 1]; ++e) {
    const NodeId child = children_[e];
    // Children already cancelled (or settled otherwise) stay as they are.
    if (states_[child] == NodeState::pending && --waiting_[child] == 0) push_ready(child);
  }
}

bool Scheduler::fail(NodeId node) {
  const std::lock_guard lock(mutex_);
  require_running(node, "fail");
  --running_;
  const std::uint32_t retries = retries_.empty() ? 0 : retries_[node];
  if (!cancelled_ && attempts_[node] <= retries) {
    states_[node] = NodeState::retrying;
    heap_.push_back({remaining_[node], rank_[node]});
    std::push_heap(heap_.begin(), heap_.end(), LowerPriority{});
    return true;
  }
  states_[node] = NodeState::failed;
  --active_;
  spread_failure(node);
  return false;
}

void Scheduler::cancel() {
  const std::lock_guard lock(mutex_);
  if (cancelled_) return;
  cancelled_ = true;
  for (NodeState& s : states_) {
    if (s == NodeState::pending || s == NodeState::ready || s == NodeState::retrying) {
      s = NodeState::cancelled;
      --active_;
    }
  }
  heap_.clear();
}

bool Scheduler::cancelled() const {
  const std::lock_guard lock(mutex_);
  return cancelled_;
}

NodeState Scheduler::state(NodeId node) const {
  const std::lock_guard lock(mutex_);
  check_id(node, "state");
  return states_[node];
}

std::vector<NodeState> Scheduler::states() const {
  const std::lock_guard lock(mutex_);
  return states_;
}

std::uint32_t Scheduler::attempts(NodeId node) const {
  const std::lock_guard lock(mutex_);
  check_id(node, "attempts");
  return attempts_[node];
}

std::size_t Scheduler::running_count() const {
  const std::lock_guard lock(mutex_);
  return running_;
}

std::size_t Scheduler::ready_count() const {
  const std::lock_guard lock(mutex_);
  return heap_.size();
}

bool Scheduler::finished() const {
  const std::lock_guard lock(mutex_);
  return active_ == 0;
}

void Scheduler::check_id(NodeId node, const char* call) const {
  if (node >= states_.size()) {
    throw StateError(std::string("Scheduler.") + call + ": no node " + std::to_string(node) +
                     " (the run has " + std::to_string(states_.size()) + " nodes)");
  }
}

void Scheduler::require_running(NodeId node, const char* call) const {
  check_id(node, call);
  if (states_[node] != NodeState::running) {
    throw StateError(std::string("Scheduler.") + call + ": node " + std::to_string(node) + " is " +
                     to_string(states_[node]) + ", not running");
  }
}

void Scheduler::push_ready(NodeId node) {
  states_[node] = NodeState::ready;
  heap_.push_back({remaining_[node], rank_[node]});
  std::push_heap(heap_.begin(), heap_.end(), LowerPriority{});
}

void Scheduler::spread_failure(NodeId node) {
  // Only pending nodes can wait on a failed one (a ready or running node's
  // parents are all done), and each turns final once, so every edge is walked
  // at most once per run.
  scratch_.clear();
  scratch_.push_back(node);
  while (!scratch_.empty()) {
    const NodeId current = scratch_.back();
    scratch_.pop_back();
    for (std::uint32_t e = child_begin_[current]; e < child_begin_[current + 1]; ++e) {
      const NodeId child = children_[e];
      if (states_[child] != NodeState::pending) continue;
      states_[child] = NodeState::upstream_failed;
      --active_;
      scratch_.push_back(child);
    }
  }
}

}  // namespace mlops
