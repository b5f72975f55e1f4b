// The incremental cycle check of add_node, after Pearce and Kelly's dynamic
// topological order: nodes carry labels consistent with every edge. A new
// node whose parents all have smaller labels than its children cannot close
// a cycle and is placed between them in O(1); this is always the case when
// nodes arrive in topological order (no children yet) or in reverse order (no
// parents yet). Otherwise only the nodes whose labels lie between the two
// bounds are searched and reordered, never the whole graph.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "graph_impl.hpp"
#include "mlops/errors.hpp"

namespace mlops {

namespace {

constexpr std::uint64_t kSpacing = std::uint64_t{1} << 20;  // room for 20 halvings in one gap
constexpr std::uint64_t kBase = std::uint64_t{1} << 62;     // room to grow both ways

}  // namespace

void Graph::Impl::relabel() {
  // A fresh topological order (Kahn) with even spacing restores room everywhere.
  auto& g = data;
  const std::size_t n = g.node_count();
  std::vector<std::uint32_t> indegree(n, 0);
  for (NodeId v = 0; v < n; ++v) g.for_each_parent(v, [&](NodeId) { ++indegree[v]; });
  std::vector<NodeId> queue;
  queue.reserve(n);
  for (NodeId v = 0; v < n; ++v) {
    if (indegree[v] == 0) queue.push_back(v);
  }
  for (std::size_t i = 0; i < queue.size(); ++i) {
    const NodeId u = queue[i];
    g.label[u] = kBase + i * kSpacing;
    g.for_each_child(u, [&](NodeId c) {
      if (--indegree[c] == 0) queue.push_back(c);
    });
  }
  if (queue.size() != n) throw std::logic_error("graph labelling found a cycle in a checked graph");
  g.min_label = kBase;
  g.max_label = n == 0 ? kBase : kBase + (n - 1) * kSpacing;
}

std::uint64_t Graph::Impl::place(std::span<const NodeId> parents, std::span<const NodeId> children,
                                 std::string_view name) {
  auto& g = data;
  if (g.node_count() == 0) return kBase;
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (children.empty()) return g.max_label + kSpacing;
    if (parents.empty()) return g.min_label - kSpacing;
    auto label_of = [&](NodeId v) { return g.label[v]; };
    std::uint64_t lower = 0;
    for (NodeId p : parents) lower = std::max(lower, label_of(p));
    std::uint64_t upper = ~std::uint64_t{0};
    for (NodeId c : children) upper = std::min(upper, label_of(c));

    if (lower >= upper) {
      // Search forward from the children among labels <= lower for a parent.
      const std::uint32_t is_parent = next_stamp();
      for (NodeId p : parents) mark[p] = is_parent;
      const std::uint32_t forward = next_stamp();
      std::vector<NodeId> stack;
      std::vector<NodeId> reached;
      NodeId closing = detail::kNone;
      for (NodeId c : children) {
        // A child already reached from an earlier child is not a new root.
        if (g.label[c] > lower || closing != detail::kNone || mark[c] == forward) continue;
        via[c] = detail::kNone;
        if (mark[c] == is_parent) {
          closing = c;
          break;
        }
        mark[c] = forward;
        stack.push_back(c);
        reached.push_back(c);
        while (!stack.empty() && closing == detail::kNone) {
          const NodeId x = stack.back();
          stack.pop_back();
          g.for_each_child(x, [&](NodeId y) {
            if (closing != detail::kNone || g.label[y] > lower || mark[y] == forward) return;
            via[y] = x;
            if (mark[y] == is_parent) {
              closing = y;
              return;
            }
            mark[y] = forward;
            stack.push_back(y);
            reached.push_back(y);
          });
        }
      }
      if (closing != detail::kNone) {
        // The cycle: new node -> child -> ... -> parent -> new node, written
        // from its earliest-declared node so the message is stable.
        std::vector<NodeId> path;
        for (NodeId x = closing; x != detail::kNone; x = via[x]) path.push_back(x);
        std::reverse(path.begin(), path.end());
        const auto first = std::min_element(path.begin(), path.end()) - path.begin();
        std::vector<std::string> cycle;
        for (std::size_t i = 0; i <= path.size(); ++i) {
          const std::size_t at = (static_cast<std::size_t>(first) + i) % (path.size() + 1);
          cycle.push_back(at == path.size() ? std::string(name) : g.nodes.name(path[at]));
        }
        cycle.push_back(cycle.front());
        std::string message = "cycle: ";
        for (std::size_t i = 0; i < cycle.size(); ++i) message += (i ? " -> " : "") + cycle[i];
        throw CycleError(message, cycle);
      }
      // Search backward from the parents among labels >= upper.
      const std::uint32_t backward = next_stamp();
      std::vector<NodeId> before;
      for (NodeId p : parents) {
        if (g.label[p] < upper || mark[p] == backward) continue;
        mark[p] = backward;
        stack.push_back(p);
        before.push_back(p);
      }
      while (!stack.empty()) {
        const NodeId x = stack.back();
        stack.pop_back();
        g.for_each_parent(x, [&](NodeId y) {
          if (g.label[y] < upper || mark[y] == backward) return;
          mark[y] = backward;
          stack.push_back(y);
          before.push_back(y);
        });
      }
      // Ancestors take the smallest of the freed labels, descendants the largest.
      auto by_label = [&](NodeId a, NodeId b) { return g.label[a] < g.label[b]; };
      std::sort(before.begin(), before.end(), by_label);
      std::sort(reached.begin(), reached.end(), by_label);
      std::vector<std::uint64_t> pool;
      pool.reserve(before.size() + reached.size());
      for (NodeId v : before) pool.push_back(g.label[v]);
      for (NodeId v : reached) pool.push_back(g.label[v]);
      std::sort(pool.begin(), pool.end());
      std::size_t next = 0;
      for (NodeId v : before) g.label[v] = pool[next++];
      for (NodeId v : reached) g.label[v] = pool[next++];
      lower = 0;
      for (NodeId p : parents) lower = std::max(lower, label_of(p));
      upper = ~std::uint64_t{0};
      for (NodeId c : children) upper = std::min(upper, label_of(c));
    }
    if (upper - lower >= 2) return lower + (upper - lower) / 2;
    relabel();
  }
  throw std::logic_error("graph labelling could not place node '" + std::string(name) + "'");
}

}  // namespace mlops
