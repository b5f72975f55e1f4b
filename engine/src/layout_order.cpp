// Layout phase 2: order each rank to reduce edge crossings.
//
// Layer-by-layer sweeps alternate direction; each sorts a layer by the
// weighted median of its neighbours' positions in the layer just fixed (the
// median resists being dragged by one far neighbour, the weighting splits
// even counts sensibly). Boxes without neighbours there keep their slot.
// After each sweep, transposition swaps adjacent vertices while that removes
// crossings, which fixes what sorting by a single number cannot; every other
// sweep it also makes swaps that cost nothing, to leave a plateau. Two
// starts (breadth-first from the sources, and from the sinks) get a few
// sweeps each, the better one is refined, the best order seen is kept, and
// sweeping stops once several sweeps in a row bring no real progress.
#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <numeric>
#include <utility>
#include <vector>

#include "layout_impl.hpp"

namespace mlops::layout_detail {

namespace {

constexpr std::size_t kPatience = 8;  // sweeps without improvement before stopping
constexpr std::size_t kTransposePasses = 8;
constexpr std::size_t kStartSweeps = 4;  // per initial order, before refining the better
constexpr double kConvergence = 0.995;   // a sweep must beat the best by this to count as progress

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

// Crossings among edges from u and from v to one neighbouring layer, with u
// left of v (`left`) and with them swapped (`right`). Both lists sorted. A
// pair (a of u, b of v) crosses in the first case when a > b, in the second
// when a < b, and never when a == b (a shared neighbour): one merge counts
// the pairs with a > b and the equal ones, the rest follows.
struct PairCrossings {
  std::size_t left = 0;
  std::size_t right = 0;
};

PairCrossings pair_crossings(const std::vector<std::uint32_t>& a,
                             const std::vector<std::uint32_t>& b) {
  if (a.size() == 1 && b.size() == 1) {  // the common case: two virtual points
    return {std::size_t{a[0] > b[0]}, std::size_t{a[0] < b[0]}};
  }
  std::size_t greater = 0;
  std::size_t equal = 0;
  std::size_t below = 0;  // entries of b smaller than the current a
  std::size_t upto = 0;   // entries of b not larger than it
  for (std::uint32_t pa : a) {
    while (below < b.size() && b[below] < pa) ++below;
    upto = std::max(upto, below);
    while (upto < b.size() && b[upto] == pa) ++upto;
    greater += below;
    equal += upto - below;
  }
  return {greater, a.size() * b.size() - greater - equal};
}

// Transposition with memory: each vertex keeps its neighbours' positions
// sorted, re-sorted only when that neighbouring layer changed, and a layer is
// revisited only when it or a neighbouring layer changed since it last
// yielded nothing. Without this, re-sorting dominates on wide layers.
class Transposer {
 public:
  explicit Transposer(LayeredGraph& g)
      : g_(g),
        version_(g.layers.size(), 1),
        clean_at_(g.layers.size()),
        up_(g.vertex_count()),
        down_(g.vertex_count()),
        up_seen_(g.vertex_count(), 0),
        down_seen_(g.vertex_count(), 0) {}

  // The order of layer r changed from outside (a sweep sorted it).
  void touched(std::size_t r) { ++version_[r]; }

  // One pass over every layer; returns how many crossings it removed.
  // `allow_equal` also swaps pairs whose crossings stay the same, which lets
  // later sweeps find orders that strict improvement never reaches.
  std::size_t pass(bool allow_equal) {
    std::size_t removed = 0;
    for (std::size_t r = 0; r < g_.layers.size(); ++r) removed += layer(r, allow_equal);
    return removed;
  }

 private:
  using Versions = std::array<std::uint64_t, 3>;

  Versions versions_around(std::size_t r) const {
    return {r > 0 ? version_[r - 1] : 0, version_[r],
            r + 1 < version_.size() ? version_[r + 1] : 0};
  }

  void refresh(Vertex v, std::size_t r) {
    if (r > 0 && up_seen_[v] != version_[r - 1]) {
      sort_positions(g_.up[v], up_[v]);
      up_seen_[v] = version_[r - 1];
    }
    if (r + 1 < version_.size() && down_seen_[v] != version_[r + 1]) {
      sort_positions(g_.down[v], down_[v]);
      down_seen_[v] = version_[r + 1];
    }
  }

  void sort_positions(const std::vector<Vertex>& neighbours, std::vector<std::uint32_t>& out) {
    out.clear();
    for (Vertex w : neighbours) out.push_back(g_.position[w]);
    // Mostly one or two entries (virtual points have one neighbour each
    // side): insertion sort beats std::sort's set-up there.
    if (out.size() <= 16) {
      for (std::size_t i = 1; i < out.size(); ++i) {
        const std::uint32_t value = out[i];
        std::size_t j = i;
        for (; j > 0 && out[j - 1] > value; --j) out[j] = out[j - 1];
        out[j] = value;
      }
    } else {
      std::sort(out.begin(), out.end());
    }
  }

  std::size_t layer(std::size_t r, bool allow_equal) {
    if (!allow_equal && clean_at_[r] == versions_around(r)) return 0;
    auto& layer = g_.layers[r];
    for (Vertex v : layer) refresh(v, r);
    std::size_t removed = 0;
    bool changed = false;
    for (std::size_t i = 0; i + 1 < layer.size(); ++i) {
      const Vertex u = layer[i];
      const Vertex v = layer[i + 1];
      const PairCrossings up = pair_crossings(up_[u], up_[v]);
      const PairCrossings down = pair_crossings(down_[u], down_[v]);
      const std::size_t now = up.left + down.left;
      const std::size_t swapped = up.right + down.right;
      if (swapped < now || (allow_equal && now > 0 && swapped == now)) {
        changed = true;
        std::swap(layer[i], layer[i + 1]);
        g_.position[u] = static_cast<std::uint32_t>(i + 1);
        g_.position[v] = static_cast<std::uint32_t>(i);
        removed += now - swapped;
      }
    }
    if (changed) ++version_[r];
    clean_at_[r] = changed ? Versions{} : versions_around(r);
    return removed;
  }

  LayeredGraph& g_;
  std::vector<std::uint64_t> version_;  // per layer, bumped when its order changes
  std::vector<Versions> clean_at_;      // versions around a layer when it last removed nothing
  std::vector<std::vector<std::uint32_t>> up_, down_;  // sorted neighbour positions
  std::vector<std::uint64_t> up_seen_, down_seen_;     // versions those were sorted at
};

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

namespace {

// Fills the layers breadth-first from the sources (or, `from_sinks`, from
// the sinks against the flow), boxes taken in index order: connected boxes
// start close together, and the start is deterministic.
void initial_order(LayeredGraph& g, bool from_sinks) {
  for (auto& layer : g.layers) layer.clear();
  std::vector<bool> seen(g.vertex_count(), false);
  std::deque<Vertex> queue;
  for (Vertex start = 0; start < g.real_count; ++start) {
    if (seen[start] || !(from_sinks ? g.down[start] : g.up[start]).empty()) continue;
    seen[start] = true;
    queue.push_back(start);
    while (!queue.empty()) {
      const Vertex v = queue.front();
      queue.pop_front();
      g.position[v] = static_cast<std::uint32_t>(g.layers[g.rank[v]].size());
      g.layers[g.rank[v]].push_back(v);
      for (Vertex w : from_sinks ? g.up[v] : g.down[v]) {
        if (!seen[w]) {
          seen[w] = true;
          queue.push_back(w);
        }
      }
    }
  }
}

// The state of the search for a good order: the current one, the best seen.
class Search {
 public:
  explicit Search(LayeredGraph& g) : g_(g) {}

  void start(bool from_sinks) {
    initial_order(g_, from_sinks);
    transposer_ = std::make_unique<Transposer>(g_);
    keep_if_better(count_layer_crossings(g_));
  }

  // Up to `count` sweeps, stopping early once kPatience of them in a row
  // brought no real progress.
  void sweeps(std::size_t count) {
    std::size_t idle = 0;
    for (std::size_t sweep = 0; sweep < count && best_ > 0 && idle < kPatience; ++sweep) {
      const bool downward = sweep % 2 == 0;
      const bool flip_ties = sweep % 4 >= 2;
      const std::size_t layers = g_.layers.size();
      for (std::size_t k = 1; k < layers; ++k) {
        const std::size_t r = downward ? k : layers - 1 - k;
        sort_layer(g_, r, downward, flip_ties, scratch_);
        transposer_->touched(r);
      }
      for (std::size_t pass = 0; pass < kTransposePasses && transposer_->pass(!flip_ties) > 0;
           ++pass) {
      }
      const std::size_t before = best_;
      keep_if_better(count_layer_crossings(g_));
      const bool progress = static_cast<double>(best_) < kConvergence * static_cast<double>(before);
      idle = progress ? 0 : idle + 1;
    }
  }

  void restore_best() {
    g_.layers = best_layers_;
    for (const auto& layer : g_.layers) {
      for (std::size_t i = 0; i < layer.size(); ++i) {
        g_.position[layer[i]] = static_cast<std::uint32_t>(i);
      }
    }
    transposer_ = std::make_unique<Transposer>(g_);
  }

  std::size_t best() const { return best_; }

 private:
  // Ties go to the newer order: it comes from more sweeps.
  void keep_if_better(std::size_t crossings) {
    if (crossings <= best_) {
      best_ = crossings;
      best_layers_ = g_.layers;
    }
  }

  LayeredGraph& g_;
  std::unique_ptr<Transposer> transposer_;
  std::vector<std::vector<Vertex>> best_layers_;
  std::size_t best_ = SIZE_MAX;
  std::vector<double> scratch_;
};

}  // namespace

std::size_t reduce_crossings(LayeredGraph& g, std::size_t max_sweeps) {
  Search search(g);
  // Two starts, a few sweeps each, then the better one refined at length.
  search.start(false);
  search.sweeps(std::min(kStartSweeps, max_sweeps));
  search.start(true);
  search.sweeps(std::min(kStartSweeps, max_sweeps));
  search.restore_best();
  search.sweeps(max_sweeps);
  search.restore_best();
  return search.best();
}

}  // namespace mlops::layout_detail
