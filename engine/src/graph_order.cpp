// Graph orderings: the cached consumer lists and topological order, then
// reachability, levels and longest paths built on them.
#include <algorithm>
#include <functional>
#include <queue>
#include <stdexcept>
#include <string>

#include "graph_impl.hpp"
#include "mlops/errors.hpp"

namespace mlops {

const detail::DerivedViews& Graph::Impl::derived() const {
  // Double-checked: concurrent readers (the GIL is released) build it once.
  if (views_ready.load(std::memory_order_acquire)) return views;
  std::lock_guard lock(views_mutex);
  if (views_ready.load(std::memory_order_relaxed)) return views;
  const auto& g = data;
  const std::size_t n = g.node_count();
  const std::size_t datasets = g.datasets.size();
  detail::DerivedViews fresh;

  // Consumers as CSR: entries in input order give ascending node ids per dataset.
  fresh.consumer_begin.assign(datasets + 1, 0);
  std::vector<NodeId> last(datasets, detail::kNone);
  for (std::size_t e = 0; e < g.in_dataset.size(); ++e) {
    const DatasetId d = g.in_dataset[e];
    if (last[d] == g.in_owner[e]) continue;
    last[d] = g.in_owner[e];
    ++fresh.consumer_begin[d + 1];
  }
  for (std::size_t d = 0; d < datasets; ++d) fresh.consumer_begin[d + 1] += fresh.consumer_begin[d];
  fresh.consumer_node.resize(fresh.consumer_begin[datasets]);
  std::vector<std::uint32_t> fill(fresh.consumer_begin.begin(), fresh.consumer_begin.end() - 1);
  std::fill(last.begin(), last.end(), detail::kNone);
  for (std::size_t e = 0; e < g.in_dataset.size(); ++e) {
    const DatasetId d = g.in_dataset[e];
    if (last[d] == g.in_owner[e]) continue;
    last[d] = g.in_owner[e];
    fresh.consumer_node[fill[d]++] = g.in_owner[e];
  }

  // Kahn's order with ties broken by declaration order (a min-heap of ids).
  std::vector<std::uint32_t> indegree(n, 0);
  for (std::size_t e = 0; e < g.in_dataset.size(); ++e) {
    if (g.producer[g.in_dataset[e]] != detail::kNone) ++indegree[g.in_owner[e]];
  }
  std::vector<NodeId> heap_storage;
  for (NodeId v = 0; v < n; ++v) {
    if (indegree[v] == 0) heap_storage.push_back(v);
  }
  std::priority_queue<NodeId, std::vector<NodeId>, std::greater<>> ready(std::greater<>{},
                                                                         std::move(heap_storage));
  fresh.topo_order.reserve(n);
  while (!ready.empty()) {
    const NodeId u = ready.top();
    ready.pop();
    fresh.topo_order.push_back(u);
    g.for_each_child(u, [&](NodeId c) {
      if (--indegree[c] == 0) ready.push(c);
    });
  }
  fresh.topo_position.assign(n, 0);
  for (std::size_t i = 0; i < fresh.topo_order.size(); ++i) {
    fresh.topo_position[fresh.topo_order[i]] = static_cast<std::uint32_t>(i);
  }
  views = std::move(fresh);
  views_ready.store(true, std::memory_order_release);
  return views;
}

std::vector<NodeId> Graph::topological_order() const {
  const ReadLock hold = read_lock();
  return impl_->derived().topo_order;
}

std::vector<NodeId> Graph::Impl::reach(std::span<const NodeId> start, bool forward) const {
  const auto& g = data;
  const auto& cached = derived();
  std::vector<std::uint8_t> seen(g.node_count(), 0);
  std::vector<NodeId> stack;
  for (NodeId s : start) {
    if (s >= g.node_count()) throw std::out_of_range("no node with id " + std::to_string(s));
    seen[s] = 2;  // a start node: walked from, never reported
    stack.push_back(s);
  }
  std::vector<NodeId> found;
  auto visit = [&](NodeId y) {
    if (seen[y] != 0) return;
    seen[y] = 1;
    found.push_back(y);
    stack.push_back(y);
  };
  while (!stack.empty()) {
    const NodeId x = stack.back();
    stack.pop_back();
    if (forward) {
      g.for_each_child(x, visit);
    } else {
      g.for_each_parent(x, visit);
    }
  }
  std::sort(found.begin(), found.end(),
            [&](NodeId a, NodeId b) { return cached.topo_position[a] < cached.topo_position[b]; });
  return found;
}

std::vector<NodeId> Graph::ancestors(std::span<const NodeId> nodes) const {
  const ReadLock hold = read_lock();
  return impl_->reach(nodes, false);
}

std::vector<NodeId> Graph::descendants(std::span<const NodeId> nodes) const {
  const ReadLock hold = read_lock();
  return impl_->reach(nodes, true);
}

std::vector<std::vector<NodeId>> Graph::levels() const {
  const ReadLock hold = read_lock();
  const auto& g = impl_->data;
  std::vector<std::uint32_t> level(g.node_count(), 0);
  std::uint32_t deepest = 0;
  for (NodeId v : impl_->derived().topo_order) {
    g.for_each_parent(v, [&](NodeId p) { level[v] = std::max(level[v], level[p] + 1); });
    deepest = std::max(deepest, level[v]);
  }
  std::vector<std::vector<NodeId>> out(g.node_count() == 0 ? 0 : deepest + 1);
  for (NodeId v = 0; v < g.node_count(); ++v) out[level[v]].push_back(v);
  return out;
}

std::vector<double> Graph::remaining_path(std::span<const double> costs) const {
  const ReadLock hold = read_lock();
  const auto& g = impl_->data;
  if (!costs.empty() && costs.size() != g.node_count()) {
    throw std::invalid_argument("costs has " + std::to_string(costs.size()) +
                                " entries for a graph of " + std::to_string(g.node_count()) +
                                " nodes");
  }
  std::vector<double> remaining(g.node_count(), 0.0);
  const auto& order = impl_->derived().topo_order;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const NodeId v = *it;
    double tail = 0.0;
    g.for_each_child(v, [&](NodeId c) { tail = std::max(tail, remaining[c]); });
    remaining[v] = (costs.empty() ? g.cost[v] : costs[v]) + tail;
  }
  return remaining;
}

std::pair<double, std::vector<NodeId>> Graph::critical_path(std::span<const double> costs) const {
  const ReadLock hold = read_lock();
  const auto& g = impl_->data;
  const std::vector<double> remaining = remaining_path(costs);
  std::pair<double, std::vector<NodeId>> result{0.0, {}};
  // Start at the source with the longest remaining path; follow the child that
  // carries it (ties: the smaller id, for determinism).
  NodeId at = detail::kNone;
  for (NodeId v = 0; v < g.node_count(); ++v) {
    bool source = true;
    g.for_each_parent(v, [&](NodeId) { source = false; });
    if (source && (at == detail::kNone || remaining[v] > remaining[at])) at = v;
  }
  if (at == detail::kNone) return result;
  result.first = remaining[at];
  while (at != detail::kNone) {
    result.second.push_back(at);
    NodeId next = detail::kNone;
    g.for_each_child(at, [&](NodeId c) {
      if (next == detail::kNone || remaining[c] > remaining[next] ||
          (remaining[c] == remaining[next] && c < next)) {
        next = c;
      }
    });
    at = next;
  }
  return result;
}

}  // namespace mlops
