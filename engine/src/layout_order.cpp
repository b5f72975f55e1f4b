// Layout phase 2: order each rank to reduce edge crossings.
//
// Layer-by-layer sweeps alternate direction; each sorts a layer by the
// weighted median of its neighbours' positions in the layer just fixed (the
// median resists being dragged by one far neighbour, the weighting splits
// even counts sensibly). Boxes without neighbours there keep their slot.
// After each sweep, transposition swaps adjacent vertices while that removes
// crossings, which fixes what sorting by a single number cannot. The best
// order seen is kept, and sweeping stops once several in a row bring nothing.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "layout_impl.hpp"

namespace mlops::layout_detail {

namespace {

constexpr std::size_t kPatience = 4;  // sweeps without improvement before stopping
constexpr std::size_t kTransposePasses = 8;

// Inversions of `values` (pairs i < j with values[i] > values[j]), counted
// with a Fenwick tree over values in [0, bound).
std::size_t count_inversions(const std::vector<std::uint32_t>& values, std::size_t bound,
                             std::vector<std::uint32_t>& tree) {
  tree.assign(bound + 1, 0);
  std::size_t inversions = 0;
  std::size_t seen = 0;
  for (std::uint32_t value : values) {
    std::size_t not_greater = 0;
    for (std::size_t i = value + 1; i > 0; i -= i & (~i + 1)) not_greater += tree[i];
    inversions += seen - not_greater;
    for (std::size_t i = value + 1; i <= bound; i += i & (~i + 1)) ++tree[i];
    ++seen;
  }
  return inversions;
}

std::size_t crossings_between(const LayeredGraph& g, std::size_t r,
                              std::vector<std::pair<std::uint32_t, std::uint32_t>>& pairs,
                              std::vector<std::uint32_t>& ends, std::vector<std::uint32_t>& tree) {
  pairs.clear();
  for (Vertex v : g.layers[r]) {
    for (Vertex w : g.down[v]) pairs.emplace_back(g.position[v], g.position[w]);
  }
  std::sort(pairs.begin(), pairs.end());
  ends.clear();
  for (const auto& p : pairs) ends.push_back(p.second);
  return count_inversions(ends, g.layers[r + 1].size(), tree);
}

// Weighted median of the positions of `neighbours`, or -1 when there are none.
double median_of(const LayeredGraph& g, const std::vector<Vertex>& neighbours,
                 std::vector<double>& scratch) {
  if (neighbours.empty()) return -1;
  scratch.clear();
  for (Vertex w : neighbours) scratch.push_back(g.position[w]);
  std::sort(scratch.begin(), scratch.end());
  const std::size_t m = scratch.size() / 2;
  if (scratch.size() % 2 == 1) return scratch[m];
  if (scratch.size() == 2) return (scratch[0] + scratch[1]) / 2;
  const double left = scratch[m - 1] - scratch.front();
  const double right = scratch.back() - scratch[m];
  if (left + right == 0) return (scratch[m - 1] + scratch[m]) / 2;
  return (scratch[m - 1] * right + scratch[m] * left) / (left + right);
}

// Sorts layer r by its neighbours in the adjacent layer (up when `downward`).
// `flip_ties` puts equal medians in reverse order, so alternate sweeps can
// escape an order that ties keep in place.
void sort_layer(LayeredGraph& g, std::size_t r, bool downward, bool flip_ties,
                std::vector<double>& scratch) {
  auto& layer = g.layers[r];
  std::vector<std::pair<double, Vertex>> movable;
  std::vector<bool> fixed(layer.size(), false);
  for (std::size_t i = 0; i < layer.size(); ++i) {
    const double m = median_of(g, downward ? g.up[layer[i]] : g.down[layer[i]], scratch);
    if (m < 0) {
      fixed[i] = true;
    } else {
      movable.emplace_back(m, layer[i]);
    }
  }
  std::stable_sort(movable.begin(), movable.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return flip_ties ? g.position[a.second] > g.position[b.second]
                     : g.position[a.second] < g.position[b.second];
  });
  std::size_t next = 0;
  for (std::size_t i = 0; i < layer.size(); ++i) {
    if (!fixed[i]) layer[i] = movable[next++].second;
  }
  for (std::size_t i = 0; i < layer.size(); ++i)
    g.position[layer[i]] = static_cast<std::uint32_t>(i);
}

// Crossings among edges from u and from v to one neighbouring layer when u is
// left of v: pairs (a of u, b of v) with a right of b. Both lists sorted.
std::size_t pair_crossings(const std::vector<std::uint32_t>& a,
                           const std::vector<std::uint32_t>& b) {
  std::size_t crossings = 0;
  std::size_t j = 0;
  for (std::uint32_t pa : a) {
    while (j < b.size() && b[j] < pa) ++j;
    crossings += j;
  }
  return crossings;
}

void sorted_positions(const LayeredGraph& g, const std::vector<Vertex>& neighbours,
                      std::vector<std::uint32_t>& out) {
  out.clear();
  for (Vertex w : neighbours) out.push_back(g.position[w]);
  std::sort(out.begin(), out.end());
}

// One transposition pass over every layer; returns how many crossings it removed.
std::size_t transpose(LayeredGraph& g) {
  std::size_t removed = 0;
  std::vector<std::uint32_t> uu, vu, ud, vd;
  for (auto& layer : g.layers) {
    for (std::size_t i = 0; i + 1 < layer.size(); ++i) {
      const Vertex u = layer[i];
      const Vertex v = layer[i + 1];
      sorted_positions(g, g.up[u], uu);
      sorted_positions(g, g.up[v], vu);
      sorted_positions(g, g.down[u], ud);
      sorted_positions(g, g.down[v], vd);
      const std::size_t now = pair_crossings(uu, vu) + pair_crossings(ud, vd);
      const std::size_t swapped = pair_crossings(vu, uu) + pair_crossings(vd, ud);
      if (swapped < now) {
        std::swap(layer[i], layer[i + 1]);
        g.position[u] = static_cast<std::uint32_t>(i + 1);
        g.position[v] = static_cast<std::uint32_t>(i);
        removed += now - swapped;
      }
    }
  }
  return removed;
}

}  // namespace

std::size_t count_layer_crossings(const LayeredGraph& g) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  std::vector<std::uint32_t> ends;
  std::vector<std::uint32_t> tree;
  std::size_t total = 0;
  for (std::size_t r = 0; r + 1 < g.layers.size(); ++r)
    total += crossings_between(g, r, pairs, ends, tree);
  return total;
}

std::size_t reduce_crossings(LayeredGraph& g, std::size_t max_sweeps) {
  std::size_t best = count_layer_crossings(g);
  std::vector<std::vector<Vertex>> best_layers = g.layers;
  std::vector<double> scratch;
  std::size_t idle = 0;
  for (std::size_t sweep = 0; sweep < max_sweeps && best > 0 && idle < kPatience; ++sweep) {
    const bool downward = sweep % 2 == 0;
    const bool flip_ties = sweep % 4 >= 2;
    const std::size_t layers = g.layers.size();
    for (std::size_t k = 1; k < layers; ++k) {
      sort_layer(g, downward ? k : layers - 1 - k, downward, flip_ties, scratch);
    }
    for (std::size_t pass = 0; pass < kTransposePasses && transpose(g) > 0; ++pass) {
    }
    const std::size_t now = count_layer_crossings(g);
    if (now < best) {
      best = now;
      best_layers = g.layers;
      idle = 0;
    } else {
      ++idle;
    }
  }
  g.layers = std::move(best_layers);
  for (const auto& layer : g.layers) {
    for (std::size_t i = 0; i < layer.size(); ++i)
      g.position[layer[i]] = static_cast<std::uint32_t>(i);
  }
  return best;
}

}  // namespace mlops::layout_detail
