// Counting crossings of polylines between rank lines: one rule for every
// drawing, ours or another tool's, so the two can be compared fairly.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "mlops/layout.hpp"

namespace mlops {

namespace {

// Where the polyline first meets the line `along == level`, across it; false
// when it never does.
bool meet(const std::vector<LayoutPoint>& line, double level, double& across) {
  for (std::size_t i = 0; i + 1 < line.size(); ++i) {
    const LayoutPoint& a = line[i];
    const LayoutPoint& b = line[i + 1];
    const double lo = std::min(a.x, b.x);
    const double hi = std::max(a.x, b.x);
    if (level < lo || level > hi) continue;
    across = a.x == b.x ? a.y : a.y + (b.y - a.y) * (level - a.x) / (b.x - a.x);
    return true;
  }
  if (line.size() == 1 && line[0].x == level) {
    across = line[0].y;
    return true;
  }
  return false;
}

// Pairs (entry, exit) with their order different at the two lines.
std::size_t strip_crossings(std::vector<std::pair<double, double>>& segments) {
  std::sort(segments.begin(), segments.end());
  // Rank the exits, then count inversions with a Fenwick tree.
  std::vector<double> exits;
  exits.reserve(segments.size());
  for (const auto& s : segments) exits.push_back(s.second);
  std::vector<double> sorted = exits;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<std::uint32_t> tree(sorted.size() + 1, 0);
  std::size_t crossings = 0;
  std::size_t seen = 0;
  for (double e : exits) {
    const auto k = static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), e) -
                                            sorted.begin());
    std::size_t not_greater = 0;
    for (std::size_t i = k + 1; i > 0; i -= i & (~i + 1)) not_greater += tree[i];
    crossings += seen - not_greater;
    for (std::size_t i = k + 1; i <= sorted.size(); i += i & (~i + 1)) ++tree[i];
    ++seen;
  }
  return crossings;
}

}  // namespace

std::size_t count_crossings(std::span<const std::vector<LayoutPoint>> polylines,
                            std::span<const double> levels) {
  // Per level, the polylines meeting it and where.
  std::vector<std::vector<std::pair<std::size_t, double>>> hits(levels.size());
  for (std::size_t p = 0; p < polylines.size(); ++p) {
    const auto& line = polylines[p];
    if (line.empty()) continue;
    double lo = line[0].x;
    double hi = line[0].x;
    for (const LayoutPoint& q : line) {
      lo = std::min(lo, q.x);
      hi = std::max(hi, q.x);
    }
    const auto first = std::lower_bound(levels.begin(), levels.end(), lo);
    for (auto it = first; it != levels.end() && *it <= hi; ++it) {
      double across = 0;
      if (meet(line, *it, across)) {
        hits[static_cast<std::size_t>(it - levels.begin())].emplace_back(p, across);
      }
    }
  }
  std::size_t total = 0;
  std::vector<std::pair<double, double>> segments;
  for (std::size_t k = 0; k + 1 < levels.size(); ++k) {
    // Both hit lists are in polyline order: merge them on the index.
    segments.clear();
    const auto& a = hits[k];
    const auto& b = hits[k + 1];
    std::size_t j = 0;
    for (const auto& [p, across] : a) {
      while (j < b.size() && b[j].first < p) ++j;
      if (j < b.size() && b[j].first == p) segments.emplace_back(across, b[j].second);
    }
    total += strip_crossings(segments);
  }
  return total;
}

}  // namespace mlops
