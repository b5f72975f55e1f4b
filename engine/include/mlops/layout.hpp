// The layered DAG layout: geometry for a picture of a directed graph.
//
// Independent of the pipeline Graph: the caller describes boxes (width and
// height each, e.g. from label widths) and directed edges between them by
// index. The engine ranks the boxes along the flow (left-to-right or
// top-to-bottom), orders each rank to reduce edge crossings, places the boxes
// so edges stay short and straight, and routes edges that span several ranks
// through virtual points. Same input, same output: every tie is broken by
// index, never by address or hash order.
//
// Cycles are tolerated: edges closing a cycle (found by a depth-first search
// in index order) are laid out reversed and their routes drawn back to front,
// so a caller's mistake gives a picture rather than an error.
#pragma once

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

namespace mlops {

enum class LayoutDirection { left_right, top_bottom };

struct LayoutPoint {
  double x = 0;
  double y = 0;
};

struct LayoutOptions {
  LayoutDirection direction = LayoutDirection::left_right;
  double node_gap = 24;         // between neighbouring boxes of one rank
  double rank_gap = 64;         // between the bands of two consecutive ranks
  double edge_gap = 10;         // between edges passing side by side through a rank
  std::size_t max_sweeps = 24;  // crossing-reduction sweeps, at most
};

struct LayoutInput {
  std::vector<double> widths;                              // per box
  std::vector<double> heights;                             // per box
  std::vector<std::pair<std::size_t, std::size_t>> edges;  // (from, to) box indices
  LayoutOptions options;
};

struct LayoutResult {
  std::vector<double> x;  // box centres; the picture spans [0, width] x [0, height]
  std::vector<double> y;
  std::vector<std::size_t> ranks;  // per box, 0 first along the flow
  // Per input edge: from the source box's border, through one pair of points
  // per rank the edge passes (entering and leaving that rank's band), to the
  // target box's border.
  std::vector<std::vector<LayoutPoint>> routes;
  double width = 0;
  double height = 0;
  std::size_t crossings = 0;  // edge crossings between consecutive ranks
  std::size_t rank_count = 0;
};

// Lays out the boxes and edges. Throws std::invalid_argument for sizes that
// disagree in length or are negative or not finite, an edge naming a box that
// does not exist, a self-loop, or non-positive gaps.
LayoutResult layout(const LayoutInput& input);

// Counts crossings of polylines drawn across parallel lines, the way layered
// drawings are compared: points are (along the flow, across it); `levels` are
// the flow coordinates of the rank lines, ascending. Between two consecutive
// levels every polyline spanning both is reduced to the pair of positions
// where it meets them, and two such pairs cross when their order differs at
// the two lines (sharing an end is not a crossing). Lets our drawings and
// another tool's be counted with the same rule.
std::size_t count_crossings(std::span<const std::vector<LayoutPoint>> polylines,
                            std::span<const double> levels);

}  // namespace mlops
