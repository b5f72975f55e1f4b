// The layout's entry point: checks the input, then runs the phases in order
// (ranks, virtual points, crossing reduction, placement).
#include "mlops/layout.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "layout_impl.hpp"

namespace mlops {

namespace {

void check(const LayoutInput& input) {
  const std::size_t n = input.widths.size();
  if (input.heights.size() != n) {
    throw std::invalid_argument("layout: " + std::to_string(n) + " widths but " +
                                std::to_string(input.heights.size()) + " heights");
  }
  for (std::size_t v = 0; v < n; ++v) {
    const double w = input.widths[v];
    const double h = input.heights[v];
    if (!std::isfinite(w) || !std::isfinite(h) || w < 0 || h < 0) {
      throw std::invalid_argument("layout: box " + std::to_string(v) +
                                  " needs a finite, non-negative width and height");
    }
  }
  for (const auto& [from, to] : input.edges) {
    if (from >= n || to >= n) {
      throw std::invalid_argument("layout: edge (" + std::to_string(from) + ", " +
                                  std::to_string(to) + ") names a box beyond the " +
                                  std::to_string(n) + " given");
    }
    if (from == to) {
      throw std::invalid_argument("layout: edge (" + std::to_string(from) + ", " +
                                  std::to_string(to) + ") is a self-loop");
    }
  }
  const LayoutOptions& o = input.options;
  if (!(o.node_gap > 0) || !(o.rank_gap > 0) || !(o.edge_gap > 0) || !std::isfinite(o.node_gap) ||
      !std::isfinite(o.rank_gap) || !std::isfinite(o.edge_gap)) {
    throw std::invalid_argument("layout: node_gap, rank_gap and edge_gap must be positive");
  }
}

}  // namespace

LayoutResult layout(const LayoutInput& input) {
  check(input);
  const std::size_t n = input.widths.size();
  std::vector<bool> reversed;
  std::vector<std::uint32_t> ranks = layout_detail::assign_ranks(n, input.edges, reversed);
  layout_detail::LayeredGraph g =
      layout_detail::build_layers(n, input.edges, std::move(ranks), std::move(reversed));

  LayoutResult result;
  result.crossings = layout_detail::reduce_crossings(g, input.options.max_sweeps);
  result.rank_count = g.layers.size();
  result.ranks.assign(g.rank.begin(), g.rank.begin() + static_cast<std::ptrdiff_t>(n));
  layout_detail::place(g, input, result);
  return result;
}

}  // namespace mlops
