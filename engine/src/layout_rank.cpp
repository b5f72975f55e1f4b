// Layout phase 1: break cycles, assign ranks, insert virtual points and pick
// an initial order.
//
// Ranks start as longest paths from the sources, which packs every box as
// early as it can go and so leaves a source that feeds only a late box far
// from it (a long edge through many ranks). A promotion pass then moves each
// box whose out-edges outnumber its in-edges as late as its children allow:
// each such move shortens the total edge length, the quantity network simplex
// minimises, at a fraction of its cost.
#include <algorithm>
#include <cstdint>
#include <deque>
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

  // Promotion, latest boxes first so a box sees its children's final ranks.
  // A few passes settle chains of boxes that follow one another.
  for (int pass = 0; pass < 4; ++pass) {
    bool moved = false;
    for (std::size_t i = order.size(); i-- > 0;) {
      const std::uint32_t v = order[i];
      if (children[v].empty() || children[v].size() <= parents[v].size()) continue;
      std::uint32_t latest = UINT32_MAX;
      for (std::uint32_t c : children[v]) latest = std::min(latest, rank[c] - 1);
      if (latest > rank[v]) {
        rank[v] = latest;
        moved = true;
      }
    }
    if (!moved) break;
  }
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

  // Initial order: breadth-first from the sources in index order, so
  // connected boxes start close together and the order is deterministic.
  std::uint32_t rank_count = 0;
  for (std::uint32_t r : g.rank) rank_count = std::max(rank_count, r + 1);
  g.layers.assign(rank_count, {});
  g.position.assign(g.vertex_count(), 0);
  std::vector<bool> seen(g.vertex_count(), false);
  std::deque<Vertex> queue;
  auto visit_from = [&](Vertex start) {
    seen[start] = true;
    queue.push_back(start);
    while (!queue.empty()) {
      const Vertex v = queue.front();
      queue.pop_front();
      g.position[v] = static_cast<std::uint32_t>(g.layers[g.rank[v]].size());
      g.layers[g.rank[v]].push_back(v);
      for (Vertex w : g.down[v]) {
        if (!seen[w]) {
          seen[w] = true;
          queue.push_back(w);
        }
      }
    }
  };
  for (Vertex v = 0; v < n; ++v) {
    if (!seen[v] && g.up[v].empty()) visit_from(v);
  }
  return g;
}

}  // namespace mlops::layout_detail
