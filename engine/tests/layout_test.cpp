// Properties of the layered layout: boxes never overlap, every edge runs with
// the flow, long edges pass through virtual points, the result is
// deterministic, and the crossing count agrees with the geometric rule.
#include "mlops/layout.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

namespace mlops {
namespace {

using Edges = std::vector<std::pair<std::size_t, std::size_t>>;

LayoutInput boxes(std::size_t n, Edges edges, LayoutDirection direction) {
  LayoutInput input;
  for (std::size_t v = 0; v < n; ++v) {
    input.widths.push_back(40.0 + static_cast<double>(v % 5) * 17.0);
    input.heights.push_back(20.0 + static_cast<double>(v % 3) * 6.0);
  }
  input.edges = std::move(edges);
  input.options.direction = direction;
  return input;
}

// A random DAG in layers of `width`: each later node reads up to three
// random earlier nodes, some of them several layers back.
Edges random_layered(std::size_t n, std::size_t width, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Edges edges;
  for (std::size_t v = width; v < n; ++v) {
    const std::size_t earlier = v - v % width;
    const std::size_t fan_in = 1 + rng() % 3;
    for (std::size_t k = 0; k < fan_in; ++k) edges.emplace_back(rng() % earlier, v);
  }
  return edges;
}

void expect_no_overlap(const LayoutInput& in, const LayoutResult& out) {
  const std::size_t n = in.widths.size();
  for (std::size_t a = 0; a < n; ++a) {
    EXPECT_GE(out.x[a] - in.widths[a] / 2, -1e-6);
    EXPECT_GE(out.y[a] - in.heights[a] / 2, -1e-6);
    EXPECT_LE(out.x[a] + in.widths[a] / 2, out.width + 1e-6);
    EXPECT_LE(out.y[a] + in.heights[a] / 2, out.height + 1e-6);
    for (std::size_t b = a + 1; b < n; ++b) {
      const bool apart_x =
          std::abs(out.x[a] - out.x[b]) >= (in.widths[a] + in.widths[b]) / 2 - 1e-6;
      const bool apart_y =
          std::abs(out.y[a] - out.y[b]) >= (in.heights[a] + in.heights[b]) / 2 - 1e-6;
      EXPECT_TRUE(apart_x || apart_y) << "boxes " << a << " and " << b << " overlap";
    }
  }
}

// The flow coordinate of a point: x left to right, y top to bottom.
double flow(const LayoutInput& in, const LayoutPoint& p) {
  return in.options.direction == LayoutDirection::left_right ? p.x : p.y;
}

void expect_with_the_flow(const LayoutInput& in, const LayoutResult& out) {
  for (std::size_t e = 0; e < in.edges.size(); ++e) {
    const auto [from, to] = in.edges[e];
    EXPECT_LT(out.ranks[from], out.ranks[to]) << "edge " << e;
    const auto& route = out.routes[e];
    ASSERT_GE(route.size(), 2u);
    for (std::size_t i = 0; i + 1 < route.size(); ++i) {
      EXPECT_LT(flow(in, route[i]), flow(in, route[i + 1]) + 1e-9) << "edge " << e;
    }
    // One pair of points per rank passed between the two ends.
    EXPECT_EQ(route.size(), 2 + 2 * (out.ranks[to] - out.ranks[from] - 1)) << "edge " << e;
  }
}

TEST(Layout, EmptyInput) {
  const LayoutResult out = layout(LayoutInput{});
  EXPECT_TRUE(out.x.empty());
  EXPECT_EQ(out.width, 0);
  EXPECT_EQ(out.crossings, 0u);
}

TEST(Layout, ChainRunsLeftToRight) {
  const LayoutInput in = boxes(4, {{0, 1}, {1, 2}, {2, 3}}, LayoutDirection::left_right);
  const LayoutResult out = layout(in);
  EXPECT_EQ(out.ranks, (std::vector<std::size_t>{0, 1, 2, 3}));
  for (std::size_t v = 0; v + 1 < 4; ++v) {
    EXPECT_LT(out.x[v], out.x[v + 1]);
    EXPECT_DOUBLE_EQ(out.y[v], out.y[v + 1]);  // a chain is drawn straight
  }
  EXPECT_EQ(out.crossings, 0u);
}

TEST(Layout, TopToBottomSwapsTheAxes) {
  const LayoutInput in = boxes(3, {{0, 1}, {0, 2}}, LayoutDirection::top_bottom);
  const LayoutResult out = layout(in);
  EXPECT_LT(out.y[0], out.y[1]);
  EXPECT_DOUBLE_EQ(out.y[1], out.y[2]);
  EXPECT_NE(out.x[1], out.x[2]);
  // The parent sits centred over its two children.
  EXPECT_NEAR(out.x[0], (out.x[1] + out.x[2]) / 2, 1e-6);
}

TEST(Layout, LongEdgesPassThroughVirtualPoints) {
  // 0 -> 1 -> 2 -> 3 and a shortcut 0 -> 3 spanning three ranks.
  const LayoutInput in = boxes(4, {{0, 1}, {1, 2}, {2, 3}, {0, 3}}, LayoutDirection::left_right);
  const LayoutResult out = layout(in);
  ASSERT_EQ(out.routes[3].size(), 6u);
  // The two virtual points must not sit on top of the boxes of their ranks.
  for (std::size_t i = 1; i < 5; i += 2) {
    const std::size_t box = (i + 1) / 2;
    EXPECT_GE(std::abs(out.routes[3][i].y - out.y[box]), in.heights[box] / 2);
  }
  expect_with_the_flow(in, out);
}

TEST(Layout, SourcesArePulledTowardsTheirOnlyConsumer) {
  // 0 -> 1 -> 2 -> 3, and a source 4 read only by 3: it belongs next to 3.
  const LayoutInput in = boxes(5, {{0, 1}, {1, 2}, {2, 3}, {4, 3}}, LayoutDirection::left_right);
  const LayoutResult out = layout(in);
  EXPECT_EQ(out.ranks[4], 2u);
}

TEST(Layout, UntanglesAnOrderThatCrosses) {
  // Declared so that the initial order crosses: 0 -> 3, 1 -> 2.
  const LayoutInput in = boxes(6, {{0, 3}, {1, 2}, {0, 4}, {1, 5}}, LayoutDirection::top_bottom);
  const LayoutResult out = layout(in);
  EXPECT_EQ(out.crossings, 0u);
}

TEST(Layout, CompleteBipartiteCrossingsAreUnavoidable) {
  Edges edges;
  for (std::size_t a = 0; a < 3; ++a) {
    for (std::size_t b = 3; b < 6; ++b) edges.emplace_back(a, b);
  }
  const LayoutResult out = layout(boxes(6, edges, LayoutDirection::left_right));
  EXPECT_EQ(out.crossings, 9u);  // C(3,2) * C(3,2) whatever the order
}

TEST(Layout, CyclesAreDrawnWithAReversedEdge) {
  const LayoutInput in = boxes(3, {{0, 1}, {1, 2}, {2, 0}}, LayoutDirection::left_right);
  const LayoutResult out = layout(in);
  expect_no_overlap(in, out);
  // The closing edge is routed from box 2 back to box 0.
  const auto& back = out.routes[2];
  EXPECT_GT(back.front().x, back.back().x);
}

TEST(Layout, DuplicateEdgesAndSeparateComponents) {
  // Two components, one with a doubled long edge, and a lone box.
  const LayoutInput in =
      boxes(7, {{0, 1}, {1, 2}, {0, 2}, {0, 2}, {3, 4}, {4, 5}}, LayoutDirection::left_right);
  const LayoutResult out = layout(in);
  expect_no_overlap(in, out);
  expect_with_the_flow(in, out);
  EXPECT_EQ(out.ranks[6], 0u);
  EXPECT_EQ(out.routes[2].size(), 4u);  // each copy of 0 -> 2 gets its own virtual point
  EXPECT_NE(out.routes[2][1].y, out.routes[3][1].y);
}

TEST(Layout, RejectsBadInput) {
  LayoutInput in = boxes(2, {{0, 2}}, LayoutDirection::left_right);
  EXPECT_THROW(layout(in), std::invalid_argument);
  in.edges = {{1, 1}};
  EXPECT_THROW(layout(in), std::invalid_argument);
  in.edges = {};
  in.heights.pop_back();
  EXPECT_THROW(layout(in), std::invalid_argument);
  in = boxes(2, {}, LayoutDirection::left_right);
  in.widths[0] = -1;
  EXPECT_THROW(layout(in), std::invalid_argument);
  in = boxes(2, {}, LayoutDirection::left_right);
  in.options.node_gap = 0;
  EXPECT_THROW(layout(in), std::invalid_argument);
}

class LayoutRandom : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(LayoutRandom, PropertiesHoldOnRandomDags) {
  for (const LayoutDirection d : {LayoutDirection::left_right, LayoutDirection::top_bottom}) {
    const LayoutInput in = boxes(300, random_layered(300, 20, GetParam()), d);
    const LayoutResult out = layout(in);
    expect_no_overlap(in, out);
    expect_with_the_flow(in, out);

    // Same input, same picture.
    const LayoutResult again = layout(in);
    EXPECT_EQ(out.x, again.x);
    EXPECT_EQ(out.y, again.y);
    EXPECT_EQ(out.crossings, again.crossings);

    // The engine's own count equals the geometric rule applied to its
    // routes drawn centre to centre through the rank lines.
    std::vector<std::vector<LayoutPoint>> lines;
    std::vector<double> levels(out.rank_count, 0.0);
    const bool lr = d == LayoutDirection::left_right;
    for (std::size_t v = 0; v < in.widths.size(); ++v)
      levels[out.ranks[v]] = lr ? out.x[v] : out.y[v];
    for (std::size_t e = 0; e < in.edges.size(); ++e) {
      std::vector<LayoutPoint> line;
      const auto [from, to] = in.edges[e];
      auto along = [&](double x, double y) { return lr ? LayoutPoint{x, y} : LayoutPoint{y, x}; };
      line.push_back(along(out.x[from], out.y[from]));
      for (const LayoutPoint& p : out.routes[e]) line.push_back(along(p.x, p.y));
      line.push_back(along(out.x[to], out.y[to]));
      lines.push_back(std::move(line));
    }
    EXPECT_EQ(count_crossings(lines, levels), out.crossings);
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, LayoutRandom, ::testing::Values(1u, 2u, 3u, 4u));

TEST(LayoutCrossings, CountsOnlyTrueCrossings) {
  const std::vector<double> levels{0, 10};
  // Two lines swapping sides cross; two sharing an end do not.
  std::vector<std::vector<LayoutPoint>> lines{{{0, 0}, {10, 5}}, {{0, 5}, {10, 0}}};
  EXPECT_EQ(count_crossings(lines, levels), 1u);
  lines = {{{0, 0}, {10, 5}}, {{0, 0}, {10, 0}}, {{0, 5}, {10, 5}}};
  EXPECT_EQ(count_crossings(lines, levels), 0u);
  // A line crossing two levels counts in each strip it spans.
  const std::vector<double> three{0, 10, 20};
  lines = {{{0, 0}, {20, 10}}, {{0, 10}, {10, 0}}, {{10, 10}, {20, 0}}};
  EXPECT_EQ(count_crossings(lines, three), 2u);
}

TEST(LayoutScale, TenThousandBoxes) {
  const LayoutInput in = boxes(10'000, random_layered(10'000, 100, 7), LayoutDirection::left_right);
  const LayoutResult out = layout(in);
  EXPECT_EQ(out.x.size(), 10'000u);
  expect_with_the_flow(in, out);
}

}  // namespace
}  // namespace mlops
