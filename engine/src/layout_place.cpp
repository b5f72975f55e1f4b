// Layout phase 3: coordinates and edge routes.
//
// Along the flow, each rank is a band as thick as its thickest box. Across
// it, positions minimise the weighted sum of squared edge offsets (dot's
// objective: long-edge segments weigh most, so long edges come out straight)
// subject to the order and the gaps. Holding all other layers fixed, one
// layer's optimum is a weighted isotonic regression: shift each vertex by the
// room its predecessors need, and the constraint becomes "non-decreasing",
// which pool-adjacent-violators solves exactly in linear time. Sweeping that
// down and up the layers is block coordinate descent on a convex problem.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "layout_impl.hpp"

namespace mlops::layout_detail {

namespace {

constexpr int kSweeps = 8;
constexpr double kAnchorWeight = 1e-3;  // keeps vertices without neighbours where they are

double edge_weight(const LayeredGraph& g, Vertex a, Vertex b) {
  const int virtuals = int{g.is_virtual(a)} + int{g.is_virtual(b)};
  return virtuals == 2 ? 8.0 : virtuals == 1 ? 2.0 : 1.0;
}

struct Block {
  double weight;
  double weighted_sum;
  std::size_t count;
  double mean() const { return weighted_sum / weight; }
};

// Non-decreasing y minimising sum w_i (y_i - t_i)^2.
void isotonic(const std::vector<double>& target, const std::vector<double>& weight,
              std::vector<Block>& blocks, std::vector<double>& out) {
  blocks.clear();
  for (std::size_t i = 0; i < target.size(); ++i) {
    blocks.push_back({weight[i], weight[i] * target[i], 1});
    while (blocks.size() > 1 && blocks[blocks.size() - 2].mean() >= blocks.back().mean()) {
      const Block last = blocks.back();
      blocks.pop_back();
      blocks.back().weight += last.weight;
      blocks.back().weighted_sum += last.weighted_sum;
      blocks.back().count += last.count;
    }
  }
  out.clear();
  for (const Block& b : blocks) out.insert(out.end(), b.count, b.mean());
}

class Placer {
 public:
  Placer(const LayeredGraph& g, const LayoutInput& input)
      : g_(g),
        options_(input.options),
        across_(g.vertex_count(), 0.0),
        along_(g.vertex_count(), 0.0),
        x_(g.vertex_count(), 0.0) {
    const bool lr = options_.direction == LayoutDirection::left_right;
    for (std::size_t v = 0; v < g.real_count; ++v) {
      across_[v] = lr ? input.heights[v] : input.widths[v];
      along_[v] = lr ? input.widths[v] : input.heights[v];
    }
  }

  void run() {
    pack();
    // The first sweep follows the flow from the sources alone; later ones see
    // both neighbouring layers, alternating direction so no end is favoured.
    for (int sweep = 0; sweep < kSweeps; ++sweep) {
      if (sweep % 2 == 0) {
        for (std::size_t r = 0; r < g_.layers.size(); ++r) solve(r, true, sweep > 0);
      } else {
        for (std::size_t r = g_.layers.size(); r-- > 0;) solve(r, true, true);
      }
    }
  }

  // Lines up the virtual points of each long edge on one coordinate where
  // their neighbours in the layers leave room: the optimum above is only
  // approached by the sweeps, and a long edge with small kinks looks worse
  // than it measures.
  void straighten() {
    for (const auto& chain : g_.chains) {
      if (chain.size() < 4) continue;  // fewer than two virtual points
      std::vector<double> xs;
      for (std::size_t i = 1; i + 1 < chain.size(); ++i) xs.push_back(x_[chain[i]]);
      std::sort(xs.begin(), xs.end());
      const double target = xs[xs.size() / 2];
      bool fits = true;
      for (std::size_t i = 1; i + 1 < chain.size() && fits; ++i) fits = room_for(chain[i], target);
      if (!fits) continue;
      for (std::size_t i = 1; i + 1 < chain.size(); ++i) x_[chain[i]] = target;
    }
  }

  double gap(Vertex a, Vertex b) const {
    const int virtuals = int{g_.is_virtual(a)} + int{g_.is_virtual(b)};
    const double space = virtuals == 0   ? options_.node_gap
                         : virtuals == 1 ? (options_.node_gap + options_.edge_gap) / 2
                                         : options_.edge_gap;
    return (across_[a] + across_[b]) / 2 + space;
  }

  const std::vector<double>& across() const { return across_; }
  const std::vector<double>& along() const { return along_; }
  const std::vector<double>& x() const { return x_; }

 private:
  // Every layer packed from 0 with the minimum gaps, centred on 0.
  void pack() {
    for (const auto& layer : g_.layers) {
      double at = 0;
      for (std::size_t i = 0; i < layer.size(); ++i) {
        if (i > 0) at += gap(layer[i - 1], layer[i]);
        x_[layer[i]] = at;
      }
      for (Vertex v : layer) x_[v] -= at / 2;
    }
  }

  // Places layer r optimally given its neighbours in the layer before
  // (`use_up`) and after it (`use_down`).
  void solve(std::size_t r, bool use_up, bool use_down) {
    const auto& layer = g_.layers[r];
    if (layer.empty()) return;
    target_.clear();
    weight_.clear();
    double offset = 0;
    for (std::size_t i = 0; i < layer.size(); ++i) {
      const Vertex v = layer[i];
      if (i > 0) offset += gap(layer[i - 1], v);
      double w = kAnchorWeight;
      double sum = kAnchorWeight * x_[v];
      auto add = [&](const std::vector<Vertex>& neighbours) {
        for (Vertex u : neighbours) {
          const double e = edge_weight(g_, u, v);
          w += e;
          sum += e * x_[u];
        }
      };
      if (use_up) add(g_.up[v]);
      if (use_down) add(g_.down[v]);
      target_.push_back(sum / w - offset);
      weight_.push_back(w);
    }
    isotonic(target_, weight_, blocks_, solved_);
    offset = 0;
    for (std::size_t i = 0; i < layer.size(); ++i) {
      if (i > 0) offset += gap(layer[i - 1], layer[i]);
      x_[layer[i]] = solved_[i] + offset;
    }
  }

  bool room_for(Vertex v, double at) const {
    const auto& layer = g_.layers[g_.rank[v]];
    const std::size_t i = g_.position[v];
    if (i > 0 && at - x_[layer[i - 1]] < gap(layer[i - 1], v) - 1e-9) return false;
    if (i + 1 < layer.size() && x_[layer[i + 1]] - at < gap(v, layer[i + 1]) - 1e-9) return false;
    return true;
  }

  const LayeredGraph& g_;
  const LayoutOptions& options_;
  std::vector<double> across_;  // extent across the flow
  std::vector<double> along_;   // extent along the flow
  std::vector<double> x_;       // centre across the flow
  std::vector<double> target_, weight_, solved_;
  std::vector<Block> blocks_;
};

}  // namespace

void place(const LayeredGraph& g, const LayoutInput& input, LayoutResult& result) {
  Placer placer(g, input);
  placer.run();
  placer.straighten();
  const auto& across = placer.across();
  const auto& along = placer.along();
  const auto& x = placer.x();

  // Bands along the flow.
  std::vector<double> band(g.layers.size(), 0.0);
  for (std::size_t v = 0; v < g.real_count; ++v) {
    band[g.rank[v]] = std::max(band[g.rank[v]], along[v]);
  }
  std::vector<double> centre(g.layers.size(), 0.0);
  double at = 0;
  for (std::size_t r = 0; r < band.size(); ++r) {
    if (r > 0) at += band[r - 1] / 2 + input.options.rank_gap + band[r] / 2;
    centre[r] = at;
  }
  double low = 0;
  double high = 0;
  bool first = true;
  for (std::size_t v = 0; v < g.vertex_count(); ++v) {
    const double lo = x[v] - across[v] / 2;
    const double hi = x[v] + across[v] / 2;
    low = first ? lo : std::min(low, lo);
    high = first ? hi : std::max(high, hi);
    first = false;
  }
  const double flow_start = band.empty() ? 0 : -band.front() / 2;
  const double flow_end = band.empty() ? 0 : centre.back() + band.back() / 2;
  const bool lr = input.options.direction == LayoutDirection::left_right;
  auto point = [&](double flow, double cross) {
    return lr ? LayoutPoint{flow - flow_start, cross - low}
              : LayoutPoint{cross - low, flow - flow_start};
  };

  result.x.resize(g.real_count);
  result.y.resize(g.real_count);
  for (std::size_t v = 0; v < g.real_count; ++v) {
    const LayoutPoint p = point(centre[g.rank[v]], x[v]);
    result.x[v] = p.x;
    result.y[v] = p.y;
  }
  result.width = lr ? flow_end - flow_start : high - low;
  result.height = lr ? high - low : flow_end - flow_start;

  result.routes.resize(g.chains.size());
  for (std::size_t e = 0; e < g.chains.size(); ++e) {
    const auto& chain = g.chains[e];
    auto& route = result.routes[e];
    route.clear();
    const Vertex head = chain.front();
    const Vertex tail = chain.back();
    route.push_back(point(centre[g.rank[head]] + along[head] / 2, x[head]));
    for (std::size_t i = 1; i + 1 < chain.size(); ++i) {
      const std::uint32_t r = g.rank[chain[i]];
      route.push_back(point(centre[r] - band[r] / 2, x[chain[i]]));
      route.push_back(point(centre[r] + band[r] / 2, x[chain[i]]));
    }
    route.push_back(point(centre[g.rank[tail]] - along[tail] / 2, x[tail]));
    if (g.reversed[e]) std::reverse(route.begin(), route.end());
  }
}

}  // namespace mlops::layout_detail
