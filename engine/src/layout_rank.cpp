// Layout phase 1: break cycles, assign ranks and insert virtual points.
//
// Ranks start as longest paths from the sources, which packs every box as
// early as it can go and so leaves a source that feeds only a late box far
// from it (a long edge through many ranks). Demotion (the promote-layering
// heuristic of Nikolov and Tarassov, mirrored) then moves boxes and their
// downstream cones later while that shortens the total edge length, the
// quantity network simplex minimises, at a fraction of its cost.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "layout_impl.hpp"

namespace mlops::layout_detail {

namespace {

struct Adjacency {
  std::vector<std::vector<std::uint32_t>> out;  // edge indices leaving each box
  std::vector<std::vector<std::uint32_t>> in;   // edge indices entering each box
};

// Marks edges that close a cycle in a depth-first search taken in index
// order; reversing exactly those leaves a DAG.
void mark_back_edges(std::size_t n, const std::vector<std::pair<std::size_t, std::size_t>>& edges,
                     const Adjacency& adj, std::vector<bool>& reversed) {
  enum : std::uint8_t { unseen, open, done };
  std::vector<std::uint8_t> mark(n, unseen);
  std::vector<std::pair<std::size_t, std::size_t>> stack;  // (box, next out-edge slot)
  for (std::size_t root = 0; root < n; ++root) {
    if (mark[root] != unseen) continue;
    mark[root] = open;
    stack.emplace_back(root, 0);
    while (!stack.empty()) {
      auto& [box, slot] = stack.back();
      if (slot == adj.out[box].size()) {
        mark[box] = done;
        stack.pop_back();
        continue;
      }
      const std::uint32_t e = adj.out[box][slot++];
      const std::size_t next = edges[e].second;
      if (mark[next] == open) {
        reversed[e] = true;
      } else if (mark[next] == unseen) {
        mark[next] = open;
        stack.emplace_back(next, 0);
      }
    }
  }
}

// Moves boxes later along the flow while that shortens the edges in total
// (fewer virtual points, hence fewer crossings): demoting a box lengthens its
// in-edges and shortens its out-edges by one, and first demotes every child
// sitting right after it, so a whole downstream cone can move together. A
// move that does not pay is undone. Work is capped so that pathological
// graphs stay linear; the cap is deterministic, and so is the result.
class Demotion {
 public:
  Demotion(const std::vector<std::vector<std::uint32_t>>& children,
           const std::vector<std::vector<std::uint32_t>>& parents, std::vector<std::uint32_t>& rank)
      : children_(children), parents_(parents), rank_(rank) {}

  void run(const std::vector<std::uint32_t>& order) {
    std::size_t budget = kWorkPerBox * (order.size() + 1);
    for (int pass = 0; pass < kPasses; ++pass) {
      bool moved = false;
      for (std::size_t i = order.size(); i-- > 0 && budget > 0;) {
        const std::uint32_t v = order[i];
        if (children_[v].empty()) continue;
        // One rank at a time, as far as it keeps paying: a source feeding
        // only a late box travels all the way to it.
        while (budget > 0) {
          undo_.clear();
          const long long delta = demote(v);
          budget -= std::min(budget, undo_.size());
          if (delta >= 0) {
            for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) rank_[it->first] = it->second;
            break;
          }
          moved = true;
        }
      }
      if (!moved || budget == 0) break;
    }
  }

 private:
  static constexpr int kPasses = 8;
  static constexpr std::size_t kWorkPerBox = 64;

  long long demote(std::uint32_t v) {
    long long delta = 0;
    for (std::uint32_t c : children_[v]) {
      if (rank_[c] == rank_[v] + 1) delta += demote(c);
    }
    undo_.emplace_back(v, rank_[v]);
    ++rank_[v];
    return delta + static_cast<long long>(parents_[v].size()) -
           static_cast<long long>(children_[v].size());
  }

  const std::vector<std::vector<std::uint32_t>>& children_;
  const std::vector<std::vector<std::uint32_t>>& parents_;
  std::vector<std::uint32_t>& rank_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> undo_;  // (box, rank before)
};

void demote(const std::vector<std::vector<std::uint32_t>>& children,
            const std::vector<std::vector<std::uint32_t>>& parents,
            const std::vector<std::uint32_t>& order, std::vector<std::uint32_t>& rank) {
  Demotion(children, parents, rank).run(order);
}

}  // namespace

std::vector<std::uint32_t> assign_ranks(
    std::size_t n, const std::vector<std::pair<std::size_t, std::size_t>>& edges,
    std::vector<bool>& reversed) {
  Adjacency adj{std::vector<std::vector<std::uint32_t>>(n),
                std::vector<std::vector<std::uint32_t>>(n)};
  for (std::uint32_t e = 0; e < edges.size(); ++e) adj.out[edges[e].first].push_back(e);
  reversed.assign(edges.size(), false);
  mark_back_edges(n, edges, adj, reversed);

  // The DAG with reversed edges turned around.
  std::vector<std::vector<std::uint32_t>> children(n);
  std::vector<std::vector<std::uint32_t>> parents(n);
  for (std::uint32_t e = 0; e < edges.size(); ++e) {
    auto [from, to] = edges[e];
    if (reversed[e]) std::swap(from, to);
    children[from].push_back(static_cast<std::uint32_t>(to));
    parents[to].push_back(static_cast<std::uint32_t>(from));
  }

  // Kahn's order, ties by index, with longest-path ranks on the way.
  std::vector<std::uint32_t> waiting(n);
  std::vector<std::uint32_t> order;
  order.reserve(n);
  for (std::size_t v = 0; v < n; ++v) {
    waiting[v] = static_cast<std::uint32_t>(parents[v].size());
    if (waiting[v] == 0) order.push_back(static_cast<std::uint32_t>(v));
  }
  std::vector<std::uint32_t> rank(n, 0);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const std::uint32_t v = order[i];
    for (std::uint32_t c : children[v]) {
      rank[c] = std::max(rank[c], rank[v] + 1);
      if (--waiting[c] == 0) order.push_back(c);
    }
  }

  demote(children, parents, order, rank);
  return rank;
}

LayeredGraph build_layers(std::size_t n,
                          const std::vector<std::pair<std::size_t, std::size_t>>& edges,
                          std::vector<std::uint32_t> ranks, std::vector<bool> reversed) {
  LayeredGraph g;
  g.real_count = n;
  g.rank = std::move(ranks);
  g.reversed = std::move(reversed);
  g.up.resize(n);
  g.down.resize(n);
  g.chains.resize(edges.size());
  for (std::size_t e = 0; e < edges.size(); ++e) {
    auto [from, to] = edges[e];
    if (g.reversed[e]) std::swap(from, to);
    auto& chain = g.chains[e];
    chain.push_back(static_cast<Vertex>(from));
    for (std::uint32_t r = g.rank[from] + 1; r < g.rank[to]; ++r) {
      const auto v = static_cast<Vertex>(g.rank.size());
      g.rank.push_back(r);
      g.up.emplace_back();
      g.down.emplace_back();
      chain.push_back(v);
    }
    chain.push_back(static_cast<Vertex>(to));
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
      g.down[chain[i]].push_back(chain[i + 1]);
      g.up[chain[i + 1]].push_back(chain[i]);
    }
  }

  std::uint32_t rank_count = 0;
  for (std::uint32_t r : g.rank) rank_count = std::max(rank_count, r + 1);
  g.layers.assign(rank_count, {});
  g.position.assign(g.vertex_count(), 0);
  return g;
}

}  // namespace mlops::layout_detail
